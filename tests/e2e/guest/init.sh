#!/bin/sh
# /init of outboard's e2e guest (busybox ash, PID 1 of the initramfs).
#
# Generic for every workload of guests.json: it loads the modules listed in
# /etc/obe2e/modules (dependency order, one "name args" per line), runs the
# command in /etc/obe2e/workload under a watchdog, forwards the workload's
# OBE2E-* lines to the results port /dev/ttyS1 (nothing else writes there, so
# kernel messages never split a result line), then powers off.
#
# Lines on the results port:
#   OBE2E-STAGE name     progress (tells the host where a hang happened)
#   OBE2E-LOG text       diagnostics
#   OBE2E-PLAN {json}    the workload's list of tests
#   OBE2E-RESULT {json}  one per test ("modules" comes from this script)
#   OBE2E-DONE {json}    last line: workload exit status and guest uptime
# Parameters arrive on the kernel command line as obe2e.KEY=VALUE; the
# workload reads the ones it needs from /proc/cmdline itself.

PATH=/bin
export PATH
umask 022

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp

if [ -c /dev/ttyS1 ]; then
    stty -F /dev/ttyS1 115200 raw -echo 2>/dev/null
    exec 3>/dev/ttyS1
else
    exec 3>/dev/null
fi

emit() {
    echo "$*" >&3
    echo "$*"
}
uptime_s() { cut -d' ' -f1 /proc/uptime; }
# shellcheck disable=SC1003
jstr() { printf '%s' "$*" | tr -d '"\\' | tr '\n\r\t' '   ' | cut -c1-400; }

emit "OBE2E-STAGE init"
emit "OBE2E-LOG kernel $(uname -r), uptime $(uptime_s) s, cmdline: $(jstr "$(cat /proc/cmdline)")"

# ---- modules -------------------------------------------------------------
emit "OBE2E-STAGE modules"
loaded=""
failed=""
ok=true
while read -r name args; do
    [ -n "$name" ] || continue
    # shellcheck disable=SC2086
    if out=$(insmod "/lib/modules/$name.ko" $args 2>&1); then
        loaded="$loaded${loaded:+,}\"$name\""
    else
        ok=false
        failed="$failed${failed:+; }$name: $(jstr "$out")"
    fi
done </etc/obe2e/modules
emit "OBE2E-RESULT {\"test\":\"modules\",\"ok\":$ok,\"loaded\":[$loaded]${failed:+,\"error\":\"$failed\"},\"uptime_s\":$(uptime_s)}"

# ---- workload --------------------------------------------------------------
workload=$(cat /etc/obe2e/workload)
limit=$(cat /etc/obe2e/guest_timeout 2>/dev/null || echo 200)
emit "OBE2E-STAGE workload"
t0=$(uptime_s)
# shellcheck disable=SC2086
{ timeout -s KILL "$limit" $workload 2>&1; echo $? >/tmp/workload.rc; } |
    while IFS= read -r line; do
        case "$line" in
        OBE2E-*) echo "$line" >&3 ;;
        esac
        echo "$line"
    done
rc=$(cat /tmp/workload.rc 2>/dev/null || echo 255)
t1=$(uptime_s)
if [ "$rc" != 0 ]; then
    echo "---- dmesg (tail) ----"
    dmesg | tail -n 40
fi
emit "OBE2E-DONE {\"workload\":\"$(jstr "$workload")\",\"rc\":$rc,\"workload_s\":$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }'),\"uptime_s\":$t1}"
sync
exec 3>&-
poweroff -f
sleep 5
echo "obe2e: poweroff failed"
while :; do sleep 60; done
