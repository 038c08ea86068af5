"""Disk images of outboard's e2e workloads (python3 standard library only).

Used by ./run.  This module
  * creates the images a workload lists under "disks" in guests.json:
      pattern     the sector pattern with the run's seed (plus the disk's
                  "seed_offset", if any) (written by the
                  workload's host tool, e.g. `lsitest pattern`, and
                  cross-checked here against the Python reference below)
      zero        a sparse file of zeros
      bootsector  a boot sector for SeaBIOS (hand-assembled real-mode code)
                  followed by a 32-sector "stage 2"; zeros elsewhere
  * checks an image after the boot: which pattern each sector must hold
    (from the "wrote" lists of the guest's results), e2fsck, and files read
    back with debugfs.

The sector pattern: a 512-byte sector is 64 little-endian u64 words,
w[0] = lba, w[1] = seed, w[i] = mix64(seed * 0x9E3779B97F4A7C15 + lba * 64 + i)
for i >= 2, where mix64 is the splitmix64 finaliser (mod 2^64).
"""
import hashlib
import json
import os
import shutil
import struct
import subprocess

SECTOR = 512
MIB = 1 << 20
M64 = (1 << 64) - 1


class DiskError(Exception):
    pass


# --------------------------------------------------------------------------
# the sector pattern (reference implementation)
# --------------------------------------------------------------------------

def mix64(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def pattern_sector(seed, lba):
    base = (seed * 0x9E3779B97F4A7C15 + lba * 64) & M64
    return struct.pack("<64Q", lba & M64, seed & M64,
                       *[mix64((base + i) & M64) for i in range(2, 64)])


def file_sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(MIB), b""):
            h.update(chunk)
    return h.hexdigest()


# --------------------------------------------------------------------------
# the SeaBIOS boot sector
# --------------------------------------------------------------------------

STAGE2_LBA = 1
STAGE2_SECTORS = 32
STAGE2_ADDR = 0x8000
TAIL_OFFSET = 448          # of the tail message inside the last stage-2 sector
PASS_CODE = 0x31           # isa-debug-exit: QEMU exits with (code << 1) | 1
FAIL_CODE = 0x21
PASS_RC = (PASS_CODE << 1) | 1   # 99
FAIL_RC = (FAIL_CODE << 1) | 1   # 67


def _assemble(items, org):
    """Two-pass assembler for hand-encoded 16-bit code: items are bytes,
    ("L", name) labels, ("R8", name) / ("R16", name) relative operands and
    ("A16", name) absolute addresses."""
    def size(it):
        if isinstance(it, bytes):
            return len(it)
        return {"L": 0, "R8": 1, "R16": 2, "A16": 2}[it[0]]

    labels, pc = {}, org
    for it in items:
        if isinstance(it, tuple) and it[0] == "L":
            labels[it[1]] = pc
        pc += size(it)
    out, pc = bytearray(), org
    for it in items:
        if isinstance(it, bytes):
            out += it
        elif it[0] == "R8":
            rel = labels[it[1]] - (pc + 1)
            if not -128 <= rel <= 127:
                raise DiskError("boot sector: jump to %s out of range" % it[1])
            out += struct.pack("<b", rel)
        elif it[0] == "R16":
            out += struct.pack("<h", labels[it[1]] - (pc + 2))
        elif it[0] == "A16":
            out += struct.pack("<H", labels[it[1]])
        pc += size(it)
    return bytes(out)


def boot_sector(nonce):
    """512 bytes of real-mode code, loaded by SeaBIOS at 0000:7C00.  It prints
    on COM1 (polling the LSR):  OBE2E-BOOT sector nonce=N drive=DDDD, then
    reads STAGE2_SECTORS sectors from LBA 1 to 0000:8000 with int 13h
    AH=42h, prints the string at the start of the first and near the end of
    the last of them, and a 16-bit sum of their words (OBE2E-SUM XXXX).  It
    ends by writing PASS_CODE (or FAIL_CODE after a failed int 13h, with AX)
    to isa-debug-exit at port 0xF4, and halts."""
    L = lambda n: ("L", n)          # noqa: E731
    R8 = lambda n: ("R8", n)        # noqa: E731
    R16 = lambda n: ("R16", n)      # noqa: E731
    A16 = lambda n: ("A16", n)      # noqa: E731
    call = lambda n: [b"\xe8", R16(n)]                        # noqa: E731
    puts = lambda n: [b"\xbe", A16(n)] + call("print")        # noqa: E731  mov si, n; call print
    tail = STAGE2_ADDR + (STAGE2_SECTORS - 1) * SECTOR + TAIL_OFFSET
    code = [
        L("start"),
        b"\xfa",                          # cli
        b"\x31\xc0",                      # xor ax, ax
        b"\x8e\xd8",                      # mov ds, ax
        b"\x8e\xc0",                      # mov es, ax
        b"\x8e\xd0",                      # mov ss, ax
        b"\xbc\x00\x7c",                  # mov sp, 0x7c00
        b"\xfb",                          # sti
        b"\xfc",                          # cld
        b"\x88\x16", A16("drive"),        # mov [drive], dl
        *puts("msg_boot"),
        b"\x31\xdb",                      # xor bx, bx
        b"\x8a\x1e", A16("drive"),        # mov bl, [drive]
        *call("hex4"),
        *puts("crlf"),
        b"\xbe", A16("dap"),              # mov si, dap
        b"\xb4\x42",                      # mov ah, 0x42  (extended read)
        b"\x8a\x16", A16("drive"),        # mov dl, [drive]
        b"\xcd\x13",                      # int 0x13
        b"\x72", R8("fail"),              # jc fail
        b"\xbe" + struct.pack("<H", STAGE2_ADDR),   # mov si, 0x8000
        *call("print"),
        b"\xbe" + struct.pack("<H", tail),          # mov si, tail
        *call("print"),
        *puts("msg_sum"),
        b"\xbe" + struct.pack("<H", STAGE2_ADDR),   # mov si, 0x8000
        b"\xb9" + struct.pack("<H", STAGE2_SECTORS * SECTOR // 2),  # mov cx, words
        b"\x31\xdb",                      # xor bx, bx
        L("sum"),
        b"\xad",                          # lodsw
        b"\x01\xc3",                      # add bx, ax
        b"\xe2", R8("sum"),               # loop sum
        *call("hex4"),
        *puts("crlf"),
        b"\xb0" + bytes([PASS_CODE]),     # mov al, PASS_CODE
        b"\xeb", R8("exit"),              # jmp exit
        L("fail"),
        b"\x89\xc3",                      # mov bx, ax
        *puts("msg_fail"),
        *call("hex4"),
        *puts("crlf"),
        b"\xb0" + bytes([FAIL_CODE]),     # mov al, FAIL_CODE
        L("exit"),
        b"\xba\xf4\x00",                  # mov dx, 0xf4
        b"\xee",                          # out dx, al
        L("halt"),
        b"\xfa\xf4",                      # cli; hlt
        b"\xeb", R8("halt"),              # jmp halt
        # print: the NUL-terminated string at DS:SI
        L("print"),
        b"\xac",                          # lodsb
        b"\x84\xc0",                      # test al, al
        b"\x74", R8("print_done"),        # jz print_done
        *call("putc"),
        b"\xeb", R8("print"),             # jmp print
        L("print_done"),
        b"\xc3",                          # ret
        # hex4: BX as 4 hex digits (clobbers AX, CX, DX)
        L("hex4"),
        b"\xb9\x04\x00",                  # mov cx, 4
        L("hex4_loop"),
        b"\xc1\xc3\x04",                  # rol bx, 4
        b"\x88\xd8",                      # mov al, bl
        b"\x24\x0f",                      # and al, 0x0f
        b"\x04\x30",                      # add al, '0'
        b"\x3c\x39",                      # cmp al, '9'
        b"\x76", R8("hex4_out"),          # jbe hex4_out
        b"\x04\x07",                      # add al, 'A' - '9' - 1
        L("hex4_out"),
        *call("putc"),
        b"\xe2", R8("hex4_loop"),         # loop hex4_loop
        b"\xc3",                          # ret
        # putc: AL to COM1 once its transmitter is empty (clobbers AH, DX)
        L("putc"),
        b"\x88\xc4",                      # mov ah, al
        b"\xba\xfd\x03",                  # mov dx, 0x3fd  (LSR)
        L("putc_wait"),
        b"\xec",                          # in al, dx
        b"\xa8\x20",                      # test al, 0x20  (THR empty)
        b"\x74", R8("putc_wait"),         # jz putc_wait
        b"\x88\xe0",                      # mov al, ah
        b"\xba\xf8\x03",                  # mov dx, 0x3f8
        b"\xee",                          # out dx, al
        b"\xc3",                          # ret
        L("drive"), b"\x00",
        L("dap"), struct.pack("<BBHHHQ", 16, 0, STAGE2_SECTORS, STAGE2_ADDR, 0, STAGE2_LBA),
        L("msg_boot"), b"\r\nOBE2E-BOOT sector nonce=%08x drive=\0" % nonce,
        L("msg_sum"), b"OBE2E-SUM \0",
        L("msg_fail"), b"OBE2E-BOOT int13 read failed ax=\0",
        L("crlf"), b"\r\n\0",
    ]
    body = _assemble(code, 0x7C00)
    if len(body) > 446:   # keep the partition table area free
        raise DiskError("boot sector code is %d bytes, more than 446" % len(body))
    return body + b"\0" * (510 - len(body)) + b"\x55\xaa"


def stage2(nonce):
    """The STAGE2_SECTORS sectors after the boot sector, and what the boot
    code is expected to print from them."""
    secs = []
    for i in range(STAGE2_SECTORS):
        lba = STAGE2_LBA + i
        s = bytearray(pattern_sector(nonce, lba))
        if i == 0:
            msg = b"OBE2E-STAGE2 lba=%d nonce=%08x\r\n\0" % (lba, nonce)
            s[:len(msg)] = msg
        if i == STAGE2_SECTORS - 1:
            msg = b"OBE2E-TAIL lba=%d nonce=%08x\r\n\0" % (lba, nonce)
            s[TAIL_OFFSET:TAIL_OFFSET + len(msg)] = msg
        secs.append(bytes(s))
    data = b"".join(secs)
    total = sum(struct.unpack("<%dH" % (len(data) // 2), data)) & 0xFFFF
    expect = {
        "boot": "OBE2E-BOOT sector nonce=%08x" % nonce,
        "stage2": "OBE2E-STAGE2 lba=%d nonce=%08x" % (STAGE2_LBA, nonce),
        "tail": "OBE2E-TAIL lba=%d nonce=%08x" % (STAGE2_LBA + STAGE2_SECTORS - 1, nonce),
        "sum": "OBE2E-SUM %04X" % total,
    }
    return data, expect


# --------------------------------------------------------------------------
# creating the images
# --------------------------------------------------------------------------

def make_images(prof, wd, seed, tool=None):
    """Create the images of prof["disks"] in wd; return name -> info."""
    disks = {}
    for name, spec in prof.get("disks", {}).items():
        path = os.path.join(wd, name + ".img")
        size = int(spec.get("size_mib", 32)) * MIB
        fill = spec.get("fill", "zero")
        if os.path.exists(path):
            os.unlink(path)
        info = {"path": path, "bytes": size, "fill": fill}
        with open(path, "wb") as f:
            f.truncate(size)
        if fill == "pattern":
            # a disk's own pattern: the run's seed plus its seed_offset
            seed_d = seed + int(spec.get("seed_offset", 0))
            if not tool:
                raise DiskError("disk %s: fill 'pattern' needs the workload's host_tool" % name)
            r = subprocess.run([tool, "pattern", path, str(seed_d), "0", str(size // SECTOR)],
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, universal_newlines=True)
            if r.returncode != 0:
                raise DiskError("%s pattern %s failed: %s" % (tool, path, r.stdout.strip()))
            # the C and the Python pattern must agree (first, middle, last sector)
            with open(path, "rb") as f:
                for lba in (0, 1, size // SECTOR // 2 + 7, size // SECTOR - 1):
                    f.seek(lba * SECTOR)
                    if f.read(SECTOR) != pattern_sector(seed_d, lba):
                        raise DiskError("%s and obe2edisk.pattern_sector disagree at LBA %d" % (
                            tool, lba))
            info["seed"] = seed_d
        elif fill == "bootsector":
            nonce = seed & 0xFFFFFFFF
            data, expect = stage2(nonce)
            with open(path, "r+b") as f:
                f.write(boot_sector(nonce) + data)
            info["nonce"] = nonce
            info["expect"] = expect
        elif fill != "zero":
            raise DiskError("disk %s: unknown fill %r" % (name, fill))
        info["sha256"] = file_sha256(path)
        disks[name] = info
    return disks


# --------------------------------------------------------------------------
# host checks after the boot
# --------------------------------------------------------------------------

def expected_segments(nsect, base_seed, writes):
    """[(first, count, seed)] covering [0, nsect): base_seed, overwritten by
    `writes` [(lba, n, seed)] in order (later writes win)."""
    segs = [(0, nsect, base_seed)]
    for lba, n, seed in writes:
        lba, n = max(0, int(lba)), int(n)
        end = min(nsect, lba + n)
        if end <= lba:
            continue
        out = []
        for a, c, s in segs:
            b = a + c
            if b <= lba or a >= end:
                out.append((a, c, s))
                continue
            if a < lba:
                out.append((a, lba - a, s))
            if b > end:
                out.append((end, b - end, s))
        out.append((lba, end - lba, int(seed)))
        segs = sorted(out)
    # merge neighbours with the same seed
    merged = []
    for a, c, s in segs:
        if merged and merged[-1][2] == s and merged[-1][0] + merged[-1][1] == a:
            merged[-1] = (merged[-1][0], merged[-1][1] + c, s)
        else:
            merged.append((a, c, s))
    return merged


def check_pattern_image(disk_name, info, results, order, tool):
    """The image must hold pattern A except where a result says it wrote."""
    writes = []
    for name in order:
        for w in results[name].get("wrote", []) or []:
            if isinstance(w, list) and len(w) == 4 and w[0] == disk_name:
                writes.append((w[1], w[2], w[3]))
    nsect = info["bytes"] // SECTOR
    segs = expected_segments(nsect, info["seed"], writes)
    names = {info["seed"]: "A"}
    for _l, _n, s in writes:
        names.setdefault(s, chr(ord("A") + len(names)))
    bad = []
    for a, c, s in segs:
        r = subprocess.run([tool, "verify", info["path"], str(s), str(a), str(c)],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, universal_newlines=True)
        if r.returncode != 0:
            try:
                txt = json.loads(r.stdout.strip().splitlines()[-1])["text"]
            except (ValueError, IndexError, KeyError):
                txt = r.stdout.strip()
            bad.append("sectors %d+%d (pattern %s): %s" % (a, c, names.get(s, s), txt))
    layout = ", ".join("%s %d+%d" % (names.get(s, s), a, c) for a, c, s in segs)
    if bad:
        return False, "; ".join(bad[:3]) + " | expected layout: " + layout
    return True, "%d sectors as expected: %s" % (nsect, layout)


def check_fsck(info):
    e2fsck = shutil.which("e2fsck") or next(
        (p for p in ("/sbin/e2fsck", "/usr/sbin/e2fsck") if os.path.exists(p)), None)
    if not e2fsck:
        return None, "no e2fsck on the host (apt-get install e2fsprogs)"
    r = subprocess.run([e2fsck, "-fn", info["path"]], stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
    lines = [l for l in r.stdout.splitlines() if l.strip()]
    if r.returncode == 0:
        return True, "e2fsck -fn: clean (%s)" % (lines[-1].strip() if lines else "")
    return False, "e2fsck -fn rc=%d: %s" % (r.returncode, " | ".join(lines[-6:]))


def check_fs_files(info, result):
    debugfs = shutil.which("debugfs") or next(
        (p for p in ("/sbin/debugfs", "/usr/sbin/debugfs") if os.path.exists(p)), None)
    if not debugfs:
        return None, "no debugfs on the host (apt-get install e2fsprogs)"
    files = result.get("host_files") or []
    if not files:
        return False, "the guest reported no files"
    bad = []
    for path, size, sha in files:
        r = subprocess.run([debugfs, "-R", "cat %s" % path, info["path"]],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
        got = hashlib.sha256(r.stdout).hexdigest()
        if len(r.stdout) != size or got != sha:
            bad.append("%s: %d bytes %s..., the guest wrote %d bytes %s...%s" % (
                path, len(r.stdout), got[:12], size, sha[:12],
                " (%s)" % r.stderr.decode(errors="replace").strip().splitlines()[-1]
                if r.stderr.strip() and len(r.stderr.strip().splitlines()) > 1 else ""))
    if bad:
        return False, "; ".join(bad)
    return True, "%d files read back from the image with debugfs: sizes and sha256 match" % len(files)
