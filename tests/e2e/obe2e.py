"""Helpers of outboard's end-to-end test (python3 standard library only).

Used by ./build-guest and ./run.  This module knows how to
  * find the cache directory,
  * fetch the Debian guest kernel once (apt-get download + dpkg -x) and keep
    vmlinuz plus the kernel modules the workloads need,
  * compute a module dependency closure from each module's .modinfo,
  * compile the static guest programs,
  * write an initramfs (own newc cpio writer, gzip),
per guest workload described in guests.json.  Nothing in the source tree is
written; artefacts live in the cache directory.
"""
import glob
import gzip
import hashlib
import io
import json
import lzma
import os
import re
import shutil
import stat
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
PROFILES = os.path.join(HERE, "guests.json")
FORMAT = "obe2e-initramfs-1"


class SetupError(Exception):
    """Something the user must fix (missing package, no kernel, ...)."""


def log(msg):
    sys.stderr.write("[e2e] %s\n" % msg)
    sys.stderr.flush()


def cache_dir():
    d = os.environ.get("OUTBOARD_E2E_CACHE")
    if not d:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        d = os.path.join(base, "outboard-e2e")
    return os.path.abspath(d)


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def write_atomic(path, data):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


# --------------------------------------------------------------------------
# workload profiles
# --------------------------------------------------------------------------

def load_profiles():
    with open(PROFILES) as f:
        data = json.load(f)
    return {k: v for k, v in data.items() if not k.startswith("_")}


def profile(name):
    profs = load_profiles()
    if name not in profs:
        raise SetupError("unknown guest workload %r (known: %s)" % (name, ", ".join(sorted(profs))))
    p = dict(profs[name])
    p["name"] = name
    return p


def all_module_roots():
    roots = set()
    for p in load_profiles().values():
        roots.update(norm_mod(m) for m in p.get("modules", []))
    return sorted(roots)


# --------------------------------------------------------------------------
# kernel modules: .modinfo and the dependency closure
# --------------------------------------------------------------------------

def norm_mod(name):
    return name.replace("-", "_")


def modinfo(data):
    """key -> value of the .modinfo section of a plain ELF64 .ko (bytes)."""
    if data[:4] != b"\x7fELF" or data[4] != 2:
        raise ValueError("not an ELF64 object")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)

    def sh(i):
        name, _t, _f, _a, off, size = struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize)
        return name, off, size

    _, stroff, _ = sh(shstrndx)
    info = {}
    for i in range(shnum):
        name, off, size = sh(i)
        end = data.index(b"\0", stroff + name)
        if data[stroff + name:end] != b".modinfo":
            continue
        for item in data[off:off + size].split(b"\0"):
            if b"=" in item:
                k, v = item.split(b"=", 1)
                info.setdefault(k.decode(), v.decode(errors="replace"))
    return info


def plain_module(path):
    """Bytes of a module file, decompressed if it is .ko.xz / .ko.gz / .ko.zst."""
    data = read_bytes(path)
    if path.endswith(".xz"):
        return lzma.decompress(data)
    if path.endswith(".gz"):
        return gzip.decompress(data)
    if path.endswith(".zst"):
        if not shutil.which("zstd"):
            raise SetupError("%s is zstd-compressed; install zstd" % path)
        return subprocess.run(["zstd", "-dc", path], stdout=subprocess.PIPE, check=True).stdout
    return data


def closure(roots, deps, builtin=()):
    """Load order (dependencies first) of roots given name -> [deps]."""
    order = []

    def visit(n, stack):
        n = norm_mod(n)
        if n in builtin or n in order:
            return
        if n in stack:
            raise SetupError("module dependency cycle: %s" % " -> ".join(stack + (n,)))
        if n not in deps:
            raise SetupError("kernel module %s not found in the kernel package" % n)
        for d in deps[n]:
            visit(d, stack + (n,))
        order.append(n)

    for r in roots:
        visit(r, ())
    return order


# --------------------------------------------------------------------------
# the guest kernel
# --------------------------------------------------------------------------

def _apt_env():
    env = dict(os.environ)
    env.setdefault("DEBIAN_FRONTEND", "noninteractive")
    return env


def kernel_package():
    """linux-image-6.1.0-N-amd64: $OUTBOARD_E2E_KERNEL_PKG, else what the
    linux-image-amd64 meta package depends on, else None."""
    pkg = os.environ.get("OUTBOARD_E2E_KERNEL_PKG")
    if pkg:
        return pkg
    try:
        out = subprocess.run(["apt-cache", "depends", "linux-image-amd64"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             universal_newlines=True, timeout=120).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    m = re.search(r"Depends:\s+(linux-image-[0-9][^\s]*-amd64)\b", out)
    return m.group(1) if m else None


def _cached_kernel(kroot, pkg=None):
    cands = []
    for kj in glob.glob(os.path.join(kroot, "*", "kernel.json")):
        try:
            with open(kj) as f:
                k = json.load(f)
        except (OSError, ValueError):
            continue
        if pkg and k.get("pkg") != pkg:
            continue
        if os.path.exists(k.get("vmlinuz", "")):
            cands.append((os.path.getmtime(kj), k))
    cands.sort(key=lambda x: x[0])
    return cands[-1][1] if cands else None


def _download_deb(pkg, dl):
    debs = sorted(glob.glob(os.path.join(dl, pkg + "_*.deb")))
    if debs:
        return debs[-1]
    log("downloading %s (apt-get download; nothing is installed on the host)" % pkg)
    r = subprocess.run(["apt-get", "download", "-o", "APT::Sandbox::User=root", pkg], cwd=dl,
                       stdin=subprocess.DEVNULL, env=_apt_env())
    debs = sorted(glob.glob(os.path.join(dl, pkg + "_*.deb")))
    if r.returncode != 0 or not debs:
        raise SetupError("apt-get download %s failed (run tests/e2e/setup, or 'apt-get update')"
                         % pkg)
    return debs[-1]


def ensure_kernel(roots, force=False):
    """Return the cached kernel description, fetching/extracting it if needed.
    `roots` are module names that must be available (with their closure)."""
    cache = cache_dir()
    kroot = os.path.join(cache, "kernel")
    os.makedirs(kroot, exist_ok=True)
    roots = sorted(set(norm_mod(r) for r in roots) | set(all_module_roots()))
    local_deb = os.environ.get("OUTBOARD_E2E_KERNEL_DEB")
    pkg = os.path.basename(local_deb).split("_")[0] if local_deb else kernel_package()
    cached = _cached_kernel(kroot, pkg) if pkg else _cached_kernel(kroot)
    if cached and not force and set(roots) <= set(cached.get("roots", [])):
        return cached
    if not pkg:
        if cached and set(roots) <= set(cached.get("roots", [])):
            return cached
        raise SetupError("cannot tell which kernel to use: apt-cache does not know "
                         "linux-image-amd64 (run tests/e2e/setup, which runs apt-get update), "
                         "or set OUTBOARD_E2E_KERNEL_PKG / OUTBOARD_E2E_KERNEL_DEB")
    dl = os.path.join(cache, "dl")
    os.makedirs(dl, exist_ok=True)
    try:
        deb = os.path.abspath(local_deb) if local_deb else _download_deb(pkg, dl)
    except SetupError:
        # e.g. stale package lists naming a kernel the mirror no longer has
        old = _cached_kernel(kroot)
        if old and set(roots) <= set(old.get("roots", [])):
            log("WARNING: cannot download %s; using the cached %s" % (pkg, old["pkg"]))
            return old
        raise
    log("extracting %s" % os.path.basename(deb))
    t0 = time.monotonic()
    x = tempfile.mkdtemp(prefix="kx-", dir=cache)
    try:
        subprocess.run(["dpkg-deb", "-x", deb, x], check=True, stdin=subprocess.DEVNULL)
        vml = sorted(glob.glob(os.path.join(x, "boot", "vmlinuz-*")))
        if not vml:
            raise SetupError("%s has no boot/vmlinuz-*" % deb)
        kver = os.path.basename(vml[-1])[len("vmlinuz-"):]
        moddir = None
        for base in ("lib/modules", "usr/lib/modules"):
            if os.path.isdir(os.path.join(x, base, kver)):
                moddir = os.path.join(x, base, kver)
        if not moddir:
            raise SetupError("%s has no lib/modules/%s" % (deb, kver))
        index = {}
        for dirpath, _d, files in os.walk(os.path.join(moddir, "kernel")):
            for fn in files:
                m = re.match(r"^(.*)\.ko(\.xz|\.gz|\.zst)?$", fn)
                if m:
                    index[norm_mod(m.group(1))] = os.path.join(dirpath, fn)
        builtin = set()
        bpath = os.path.join(moddir, "modules.builtin")
        if os.path.exists(bpath):
            with open(bpath) as f:
                for line in f:
                    n = os.path.basename(line.strip())
                    builtin.add(norm_mod(re.sub(r"\.ko.*$", "", n)))
        # read .modinfo lazily, only along the closure
        deps, blobs = {}, {}

        class Lazy(dict):
            def __contains__(self, n):
                if n not in deps and n in index:
                    data = plain_module(index[n])
                    blobs[n] = data
                    deps[n] = [norm_mod(d) for d in modinfo(data).get("depends", "").split(",")
                               if d]
                return n in deps

            def __getitem__(self, n):
                self.__contains__(n)
                return deps[n]

        missing = [r for r in roots if r not in builtin and r not in index]
        if missing:
            raise SetupError("kernel %s has no module(s) %s" % (kver, ", ".join(missing)))
        order = closure(roots, Lazy(), builtin)
        kdir = os.path.join(kroot, pkg)
        new = kdir + ".new"
        shutil.rmtree(new, ignore_errors=True)
        os.makedirs(os.path.join(new, "modules"))
        shutil.copyfile(vml[-1], os.path.join(new, "vmlinuz"))
        cfg = os.path.join(x, "boot", "config-" + kver)
        if os.path.exists(cfg):
            shutil.copyfile(cfg, os.path.join(new, "config"))
        for n in order:
            write_atomic(os.path.join(new, "modules", n + ".ko"), blobs[n])
        k = {
            "pkg": pkg, "kver": kver, "deb": os.path.basename(deb),
            "vmlinuz": os.path.join(kdir, "vmlinuz"),
            "module_dir": os.path.join(kdir, "modules"),
            "roots": roots,
            "deps": {n: deps[n] for n in order},
            "builtin": sorted(b for b in builtin if b in set(sum(deps.values(), [])) | set(roots)),
        }
        with open(os.path.join(new, "kernel.json"), "w") as f:
            json.dump(k, f, indent=1)
        shutil.rmtree(kdir, ignore_errors=True)
        os.rename(new, kdir)
    finally:
        shutil.rmtree(x, ignore_errors=True)
    if os.environ.get("OUTBOARD_E2E_KEEP_DEB", "1") == "0" and deb.startswith(dl + os.sep):
        os.unlink(deb)
    log("kernel %s (%s) cached in %.1f s; modules: %s" % (
        pkg, kver, time.monotonic() - t0, " ".join(order)))
    return k


# --------------------------------------------------------------------------
# guest programs and busybox
# --------------------------------------------------------------------------

CFLAGS = ["-static", "-O2", "-Wall", "-Wextra"]


def elf_is_static(data):
    if data[:4] != b"\x7fELF" or data[4] != 2:
        return False
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    for i in range(phnum):
        p_type, = struct.unpack_from("<I", data, phoff + i * phentsize)
        if p_type == 3:  # PT_INTERP
            return False
    return True


def cc_name():
    return os.environ.get("CC", "gcc")


LOCAL_INCLUDE = re.compile(rb'^[ \t]*#[ \t]*include[ \t]*"([^"]+)"', re.M)


def program_inputs(src_path):
    """The files a guest program is built from: its source and, recursively,
    every file it includes with #include "..." that exists next to the
    including file (e.g. guest/obe2e-guest.h)."""
    seen, todo = [], [os.path.normpath(src_path)]
    while todo:
        path = todo.pop(0)
        if path in seen:
            continue
        seen.append(path)
        for m in LOCAL_INCLUDE.finditer(read_bytes(path)):
            inc = os.path.normpath(os.path.join(os.path.dirname(path), m.group(1).decode()))
            if os.path.isfile(inc):
                todo.append(inc)
    return seen


def program_key(src):
    """Hash of everything that makes guest program `src`: the compiler and
    flags, and the name and contents of each of its input files."""
    parts = [cc_name()] + CFLAGS
    for path in program_inputs(os.path.join(HERE, src)):
        parts += [os.path.relpath(path, HERE), sha256(read_bytes(path))]
    return sha256("\0".join(parts).encode())


def build_program(name, src, outdir):
    """Compile guest program `src` statically; cached by the hash of its
    inputs (program_key).  Returns (binary path, key)."""
    src_path = os.path.join(HERE, src)
    cc = cc_name()
    key = program_key(src)
    out = os.path.join(outdir, name)
    stamp = out + ".key"
    try:
        if read_bytes(stamp).decode() == key and os.path.exists(out):
            return out, key
    except OSError:
        pass
    if not shutil.which(cc):
        raise SetupError("no C compiler %s (run tests/e2e/setup)" % cc)
    log("compiling %s (%s %s)" % (src, cc, " ".join(CFLAGS)))
    r = subprocess.run([cc] + CFLAGS + ["-o", out + ".tmp", src_path], stdin=subprocess.DEVNULL)
    if r.returncode != 0:
        raise SetupError("compiling %s failed (static libc: apt-get install libc6-dev)" % src)
    os.replace(out + ".tmp", out)
    write_atomic(stamp, key.encode())
    return out, key


def find_busybox():
    for cand in (os.environ.get("OUTBOARD_E2E_BUSYBOX"), "/bin/busybox", "/usr/bin/busybox",
                 shutil.which("busybox")):
        if cand and os.path.exists(cand):
            data = read_bytes(cand)
            if elf_is_static(data):
                return cand, data
    raise SetupError("no statically linked busybox (apt-get install busybox-static)")


# --------------------------------------------------------------------------
# newc cpio
# --------------------------------------------------------------------------

class Cpio:
    """Minimal writer of the "newc" cpio format the kernel unpacks."""

    def __init__(self):
        self.out = io.BytesIO()
        self.ino = 1
        self.seen = set()

    def _add(self, name, mode, data=b"", nlink=1, rdev=(0, 0)):
        name = name.strip("/")
        if name in self.seen:
            raise ValueError("duplicate cpio entry " + name)
        self.seen.add(name)
        self.ino += 1
        nb = name.encode() + b"\0"
        fields = (self.ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rdev[0], rdev[1], len(nb), 0)
        hdr = b"070701" + b"".join(b"%08X" % v for v in fields)
        self.out.write(hdr + nb + b"\0" * (-(len(hdr) + len(nb)) % 4))
        self.out.write(data + b"\0" * (-len(data) % 4))

    def directory(self, name, perm=0o755):
        self._add(name, stat.S_IFDIR | perm, nlink=2)

    def file(self, name, data, perm=0o644):
        self._add(name, stat.S_IFREG | perm, data)

    def symlink(self, name, target):
        self._add(name, stat.S_IFLNK | 0o777, target.encode())

    def chardev(self, name, major, minor, perm=0o600):
        self._add(name, stat.S_IFCHR | perm, rdev=(major, minor))

    def gzipped(self):
        self._add("TRAILER!!!", 0)
        raw = self.out.getvalue()
        raw += b"\0" * (-len(raw) % 512)
        return gzip.compress(raw, compresslevel=6, mtime=0)


# --------------------------------------------------------------------------
# initramfs per workload
# --------------------------------------------------------------------------

def extra_file(spec):
    """(path, bytes) of a host file copied into the initramfs ("extra_files"
    of guests.json: {"paths": [candidates...], "optional": bool}), or None."""
    for cand in spec.get("paths", []):
        if os.path.exists(cand):
            data = read_bytes(cand)
            if spec.get("static", True) and not elf_is_static(data):
                continue
            return cand, data
    if spec.get("optional"):
        return None
    raise SetupError("none of %s exists (%s; run tests/e2e/setup)" % (
        ", ".join(spec.get("paths", [])), spec.get("package", "?")))


def ensure_guest(name, force=False):
    """Build (or reuse) the initramfs of workload `name`; return its manifest.
    A workload with "boot": "seabios" boots no kernel: its manifest only
    names it."""
    p = profile(name)
    if p.get("boot", "linux") == "seabios":
        return {"workload": name, "boot": "seabios", "kernel": None, "kver": "none (SeaBIOS only)",
                "initramfs": None, "programs": {}}
    roots = [norm_mod(m) for m in p.get("modules", [])]
    k = ensure_kernel(roots, force=force)
    mods = closure(roots, k["deps"], set(k.get("builtin", [])))
    gdir = os.path.join(cache_dir(), "guest", name)
    os.makedirs(gdir, exist_ok=True)
    built = {pn: build_program(pn, src, gdir) for pn, src in sorted(p.get("programs", {}).items())}
    programs = {pn: path for pn, (path, _key) in built.items()}
    bb_path, bb = find_busybox()
    init = read_bytes(os.path.join(HERE, "guest", "init.sh"))

    insmod_args = p.get("insmod_args", {})
    modlist = "".join("%s %s\n" % (m, insmod_args.get(m, "")) for m in mods).encode()
    workload = (" ".join(p["workload"]) + "\n").encode()
    guest_timeout = ("%d\n" % int(p.get("guest_timeout_s", 200))).encode()
    parts = [FORMAT.encode(), bb, init, modlist, workload, guest_timeout, k["pkg"].encode()]
    # each program's source key (its .c and the headers it includes) and binary
    parts += [built[pn][1].encode() for pn in sorted(built)]
    parts += [read_bytes(programs[pn]) for pn in sorted(programs)]
    extras = {}
    for dst, spec in sorted(p.get("extra_files", {}).items()):
        found = extra_file(spec)
        if found:
            extras[dst] = found
        parts += [dst.encode(), found[1] if found else b"-"]
    mod_data = {m: read_bytes(os.path.join(k["module_dir"], m + ".ko")) for m in mods}
    parts += [mod_data[m] for m in mods]
    h = hashlib.sha256()
    for part in parts:
        h.update(sha256(part).encode())
    inputs = h.hexdigest()

    out = os.path.join(gdir, "initramfs.cpio.gz")
    man_path = os.path.join(gdir, "manifest.json")
    if not force and os.path.exists(out):
        try:
            with open(man_path) as f:
                m = json.load(f)
            if m.get("inputs_sha256") == inputs and m.get("kernel") == k["vmlinuz"]:
                return m
        except (OSError, ValueError):
            pass

    c = Cpio()
    for d in ("bin", "dev", "proc", "sys", "tmp", "run", "etc", "etc/obe2e", "lib",
              "lib/modules", "root"):
        c.directory(d)
    c.chardev("dev/console", 5, 1)
    c.chardev("dev/null", 1, 3, 0o666)
    c.file("bin/busybox", bb, 0o755)
    applets = subprocess.run([bb_path, "--list"], stdout=subprocess.PIPE, check=True,
                             universal_newlines=True).stdout.split()
    for a in applets:
        if a != "busybox" and a not in programs and "bin/" + a not in extras:
            c.symlink("bin/" + a, "busybox")
    for pn, path in programs.items():
        c.file("bin/" + pn, read_bytes(path), 0o755)
    for dst, (_src, data) in sorted(extras.items()):
        c.file(dst, data, 0o755)
    for m in mods:
        c.file("lib/modules/%s.ko" % m, mod_data[m])
    c.file("etc/obe2e/modules", modlist)
    c.file("etc/obe2e/workload", workload)
    c.file("etc/obe2e/guest_timeout", guest_timeout)
    c.file("etc/obe2e/build.json", json.dumps(
        {"workload": name, "kernel_pkg": k["pkg"], "kver": k["kver"], "inputs_sha256": inputs,
         "modules": mods, "programs": sorted(programs)}).encode())
    c.file("init", init, 0o755)
    data = c.gzipped()
    write_atomic(out, data)
    m = {
        "workload": name, "kernel": k["vmlinuz"], "kernel_pkg": k["pkg"], "kver": k["kver"],
        "initramfs": out, "initramfs_bytes": len(data), "modules": mods,
        "programs": programs, "busybox": bb_path, "inputs_sha256": inputs,
        "extra_files": {dst: src for dst, (src, _d) in extras.items()},
        "built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    write_atomic(man_path, json.dumps(m, indent=1).encode())
    log("initramfs for %s built: %s (%d KiB; modules: %s; programs: %s%s)" % (
        name, out, len(data) // 1024, " ".join(mods) or "-", " ".join(sorted(programs)) or "-",
        "".join("; %s from %s" % (d, src) for d, (src, _x) in sorted(extras.items()))))
    return m
