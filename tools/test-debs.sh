#!/usr/bin/env bash
# The Debian packages, proved on a clean system:
#   1. builds them from this tree (dpkg-buildpackage -us -uc -b, in a copy
#      under /var/tmp so that nothing lands next to the source tree);
#   2. lintian: no error, no warning;
#   3. dpkg-deb: each package's files, Depends, Multi-Arch and Section;
#   4. a minimal Debian 12 root made by debootstrap (cached in $CACHE: the
#      root as a tarball, the .debs apt downloads into it), a fresh copy
#      per run;
#   5. apt-get install ./*.deb there (dependencies come from Debian), then
#      every test of debian/tests/control, run as autopkgtest would;
#   6. apt-get purge, then no file of the packages is left (dpkg -S, ls).
# The packages are never installed on this machine itself. Runs as root
# (debootstrap, chroot); exits non-zero with the failing step's log.
#   tools/test-debs.sh [--keep] [--debs DIR]
#     --keep      leave the work dir for a look
#     --debs DIR  test the packages already built in DIR (its .changes and
#                 .debs) instead of building them
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD

SUITE=bookworm
MIRROR=${CONVPOOL_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${CONVPOOL_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
CACHE=${CONVPOOL_DEBOOTSTRAP_CACHE:-/var/cache/convpool-debootstrap}
PACKAGES=(libconvpool1 libconvpool-dev convpool-tools python3-convpool)
keep=no
prebuilt=
while [ $# -gt 0 ]; do
    case $1 in
    --keep) keep=yes ;;
    --debs)
        prebuilt=$(cd "$2" && pwd)
        shift
        ;;
    *)
        echo "usage: $0 [--keep] [--debs DIR]" >&2
        exit 2
        ;;
    esac
    shift
done

if [ "$(id -u)" -ne 0 ]; then
    echo "test-debs: needs root (debootstrap, chroot); run it with sudo" >&2
    exit 1
fi
tools/setup-debian.sh package

work=$(mktemp -d /var/tmp/convpool-debs.XXXXXX)
root=$work/root
cleanup() {
    # The chroot's mounts live in their own mount namespaces (unshare), so
    # only files are left to remove.
    if [ $keep = yes ]; then
        echo "test-debs: work dir kept: $work"
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT

t_start=$SECONDS
t_step=$SECONDS
step() {
    echo "== [$((SECONDS - t_start))s] $*"
    t_step=$SECONDS
}
fail() {
    echo "FAIL: $*" >&2
    exit 1
}
# logged LOG CMD...: runs CMD with its output in LOG; on failure prints the
# end of LOG (where the compiler's or dpkg's error is) and stops.
logged() {
    local log=$1
    shift
    if ! "$@" >"$log" 2>&1; then
        echo "FAIL: $* (log: $log)" >&2
        tail -n 150 "$log" >&2
        keep=yes
        exit 1
    fi
}
# in_root CMD...: CMD inside the Debian root, in a mount namespace of its
# own holding /proc, /dev and the shared apt cache.
in_root() {
    unshare --mount --fork -- /bin/sh -c '
        root=$1; cache=$2; shift 2
        mount -t proc proc "$root/proc"
        mount --rbind /dev "$root/dev"
        mount --bind "$cache" "$root/var/cache/apt/archives"
        exec chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
            HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"' \
        sh "$root" "$CACHE/archives" "$@"
}

# 1. Build ---------------------------------------------------------------
version=$(dpkg-parsechangelog -l debian/changelog -S Version)
if [ -n "$prebuilt" ]; then
    step "the packages $version in $prebuilt"
    mkdir -p "$work/build"
    cp "$prebuilt/"*"_$version"_*.deb "$prebuilt/"*"_$version"_*.changes "$work/build/"
    cp "$prebuilt/"*"_$version"_*.buildinfo "$work/build/" 2>/dev/null || true
else
    step "build the packages $version (dpkg-buildpackage -us -uc -b)"
    tree=$work/build/libconvpool-$version
    mkdir -p "$tree"
    # The tree as git sees it (tracked and new files, not ignored ones such
    # as build dirs), uncommitted changes included.
    git ls-files -z --cached --others --exclude-standard | tar -c --null -T - | tar -x -C "$tree"
    logged "$work/build.log" sh -c "cd '$tree' && dpkg-buildpackage -us -uc -b"
    grep -E "^(Ok|Fail|Skipped|Timeout):" "$work/build.log" | sed 's/^/   tests at build time: /' || true
fi
debs=()
for p in "${PACKAGES[@]}"; do
    deb=$(ls "$work/build/${p}_${version}_"*.deb 2>/dev/null || true)
    [ -n "$deb" ] || fail "dpkg-buildpackage made no $p package"
    debs+=("$deb")
done
echo "   built in $((SECONDS - t_step))s: $(cd "$work/build" && echo *.deb)"

# 2. lintian -------------------------------------------------------------
step "lintian"
changes=$(ls "$work/build/"*.changes)
if ! lintian --fail-on error,warning "$changes" >"$work/lintian.log" 2>&1; then
    cat "$work/lintian.log"
    fail "lintian reports errors or warnings"
fi
if grep -E '^[EW]: ' "$work/lintian.log"; then
    fail "lintian reports errors or warnings"
fi
echo "   no errors, no warnings ($(grep -c '^[IPX]: ' "$work/lintian.log" || true) info/pedantic notes)"

# 3. Contents and control fields --------------------------------------------
step "dpkg-deb: files, Depends, Multi-Arch, Section"
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
expected_files() { # PACKAGE: the files it must hold, sorted
    local doc=usr/share/doc/$1
    case $1 in
    libconvpool1)
        printf '%s\n' "usr/lib/$multiarch/libconvpool.so.1" \
            "usr/lib/$multiarch/libconvpool.so.$version"
        ;;
    libconvpool-dev)
        printf '%s\n' usr/include/convpool.h "usr/lib/$multiarch/libconvpool.so" \
            "usr/lib/$multiarch/pkgconfig/convpool.pc"
        ;;
    convpool-tools)
        printf '%s\n' usr/bin/convpool-run usr/share/man/man1/convpool-run.1.gz
        ;;
    python3-convpool)
        (cd bindings/python && ls convpool/*.py convpool/py.typed) |
            sed 's|^|usr/lib/python3/dist-packages/|'
        echo "usr/lib/python3/dist-packages/convpool-$version.dist-info/METADATA"
        ;;
    esac
    printf '%s\n' "$doc/changelog.gz" "$doc/copyright"
}
field() { dpkg-deb -f "$1" "$2"; }
expect_field() { # DEB FIELD EXPECTED-REGEX
    local got
    got=$(field "$1" "$2")
    if ! echo "$got" | grep -Eq "$3"; then
        fail "$(basename "$1"): $2 is '$got', expected /$3/"
    fi
}
for deb in "${debs[@]}"; do
    p=$(field "$deb" Package)
    # Regular files and symlinks, without the leading ./
    dpkg-deb -c "$deb" | awk '$1 !~ /^d/ { print $6 }' | sed 's|^\./||' | sort >"$work/$p.files"
    if ! diff -u <(expected_files "$p" | sort) "$work/$p.files"; then
        fail "$p holds other files than expected ('-' missing, '+' unexpected)"
    fi
    echo "   $p: $(wc -l <"$work/$p.files") files; Depends: $(field "$deb" Depends)"
done
deb_of() { ls "$work/build/${1}_${version}_"*.deb; }
expect_field "$(deb_of libconvpool1)" Multi-Arch '^same$'
expect_field "$(deb_of libconvpool1)" Section '^libs$'
expect_field "$(deb_of libconvpool1)" Depends 'libc6 \(>= '
expect_field "$(deb_of libconvpool-dev)" Multi-Arch '^same$'
expect_field "$(deb_of libconvpool-dev)" Section '^libdevel$'
expect_field "$(deb_of libconvpool-dev)" Depends "libconvpool1 \\(= $version\\)"
expect_field "$(deb_of convpool-tools)" Depends 'libconvpool1 \(>= 1\.[0-9]+\.[0-9]+\)'
expect_field "$(deb_of convpool-tools)" Section '^science$'
expect_field "$(deb_of python3-convpool)" Depends "libconvpool1 \\(= $version\\)"
expect_field "$(deb_of python3-convpool)" Depends 'python3-numpy'
expect_field "$(deb_of python3-convpool)" Section '^python$'
# The shlibs the library gives its reverse dependencies come from the
# symbols file, and the run-time ISA dispatch survived the distribution's
# flags: both AVX paths are in the packaged library.
dpkg-deb -x "$(deb_of libconvpool1)" "$work/lib"
so=$work/lib/usr/lib/$multiarch/libconvpool.so.$version
objdump -d --no-show-raw-insn "$so" >"$work/lib.asm"
grep -q 'zmm' "$work/lib.asm" || fail "the packaged library has no AVX-512 code"
grep -q 'vfmadd[0-9a-z]*ps.*ymm' "$work/lib.asm" || fail "the packaged library has no AVX2 FMA code"
echo "   libconvpool.so.$version: AVX2 and AVX-512 code present, chosen at run time"

# 4. A clean Debian 12 root ------------------------------------------------
step "Debian $SUITE root (debootstrap, cached in $CACHE)"
mkdir -p "$CACHE/archives/partial"
if [ ! -s "$CACHE/root.tar" ]; then
    logged "$work/debootstrap.log" debootstrap --variant=minbase "$SUITE" "$work/bootstrap" "$MIRROR"
    cat >"$work/bootstrap/etc/apt/sources.list" <<EOF
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb $SECURITY_MIRROR $SUITE-security main
EOF
    rm -f "$work/bootstrap/var/cache/apt/archives/"*.deb
    tar -C "$work/bootstrap" -cf "$CACHE/root.tar.new" .
    mv "$CACHE/root.tar.new" "$CACHE/root.tar"
    rm -rf "$work/bootstrap"
    echo "   created in $((SECONDS - t_step))s"
fi
mkdir "$root"
tar -C "$root" -xf "$CACHE/root.tar"
cp /etc/resolv.conf "$root/etc/resolv.conf"
logged "$work/apt-update.log" in_root apt-get update
if in_root dpkg -s "${PACKAGES[@]}" >/dev/null 2>&1; then
    fail "the fresh root already has a convpool package"
fi
echo "   ready in $((SECONDS - t_step))s"

# 5. Install and run the tests ----------------------------------------------
step "apt-get install ./*.deb in the root"
mkdir "$root/debs"
cp "${debs[@]}" "$root/debs/"
logged "$work/install.log" in_root sh -c 'cd /debs && apt-get install -y --no-install-recommends ./*.deb'
in_root dpkg -l "${PACKAGES[@]}" | grep '^ii' | awk '{ print "   " $1, $2, $3 }'
# The tests' own dependencies, from debian/tests/control ('@' = our packages).
test_deps=$(sed -n 's/^Depends://p' debian/tests/control | tr ',' '\n' |
    sed 's/^ *//; s/ *$//; /^@$/d; /^$/d' | sort -u)
# shellcheck disable=SC2086 # one package name a word
logged "$work/install-test-deps.log" in_root apt-get install -y --no-install-recommends $test_deps
echo "   installed in $((SECONDS - t_step))s"

step "autopkgtest: debian/tests/control in the root"
mkdir -p "$root/src/debian" "$root/src/tests/data"
cp -r debian/tests "$root/src/debian/"
mkdir -p "$root/src/tests/abi"
cp tests/abi/consumer.c "$root/src/tests/abi/"
cp -r tests/data/models "$root/src/tests/data/"
tests=$(sed -n 's/^Tests://p' debian/tests/control)
for t in $tests; do
    mkdir -p "$root/tmp/autopkgtest-$t"
    if in_root /usr/bin/env AUTOPKGTEST_TMP="/tmp/autopkgtest-$t" "/src/debian/tests/$t" \
        >"$work/test-$t.log" 2>&1; then
        echo "   PASS $t"
        sed 's/^/     | /' "$work/test-$t.log"
    else
        echo "   FAIL $t"
        sed 's/^/     | /' "$work/test-$t.log"
        fail "autopkgtest $t failed in the clean root"
    fi
done

# 6. Purge, and nothing left -------------------------------------------------
step "apt-get purge, then no file of the packages left"
logged "$work/purge.log" in_root apt-get purge -y "${PACKAGES[@]}"
left=0
for p in "${PACKAGES[@]}"; do
    while read -r f; do
        if in_root dpkg -S "/$f" >/dev/null 2>&1; then
            echo "   dpkg -S still finds /$f"
            left=1
        fi
        if [ -e "$root/$f" ] || [ -L "$root/$f" ]; then
            echo "   /$f still exists"
            left=1
        fi
    done <"$work/$p.files"
done
for d in usr/lib/python3/dist-packages/convpool usr/share/doc/libconvpool1 \
    usr/share/doc/libconvpool-dev usr/share/doc/convpool-tools usr/share/doc/python3-convpool; do
    if [ -e "$root/$d" ]; then
        echo "   /$d still exists: $(find "$root/$d" | head -n 5)"
        left=1
    fi
done
if in_root dpkg -l "${PACKAGES[@]}" 2>/dev/null | grep -E '^(ii|rc)'; then
    left=1
fi
[ $left = 0 ] || fail "the purge left files of the packages behind"
echo "   dpkg -S finds none of their $(cat "$work/"*.files | wc -l) files; none is on disk"

echo "== test-debs: OK in $((SECONDS - t_start))s"
