#!/bin/sh
# install-ldconfig.sh LIBDIR
# Run by `meson install` (meson.add_install_script). After an install into
# the live system (no DESTDIR) runs ldconfig, so that the loader's cache
# knows the new libconvpool.so.1; without it programs in the default prefix
# (/usr/local/bin/convpool-run) fail with "cannot open shared object file".
# Staged installs (DESTDIR: packaging) and installs by a non-root user only
# print what to do, as do prefixes whose libdir the loader does not search.
set -eu
libdir=$1
case $libdir in
/*) ;;
*) libdir=$MESON_INSTALL_PREFIX/$libdir ;;
esac
if [ -n "${DESTDIR:-}" ]; then
    exit 0
fi
if ! command -v ldconfig >/dev/null 2>&1 && [ ! -x /sbin/ldconfig ]; then
    exit 0
fi
PATH=$PATH:/sbin:/usr/sbin
# The directories ldconfig scans (those that exist), compared after
# resolving symlinks: on a merged-/usr system /lib/x86_64-linux-gnu stands
# for /usr/lib/x86_64-linux-gnu.
want=$(readlink -f "$libdir")
searched=no
for dir in $(ldconfig -v -N 2>/dev/null | sed -n 's/^\(\/[^:]*\):.*/\1/p'); do
    if [ "$(readlink -f "$dir")" = "$want" ]; then
        searched=yes
        break
    fi
done
if [ $searched = no ]; then
    echo "libconvpool: $libdir is not in the dynamic loader's search path;"
    echo "  run programs with LD_LIBRARY_PATH=$libdir, or add it to /etc/ld.so.conf.d/ and run ldconfig"
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "libconvpool: run 'sudo ldconfig' so that the loader finds libconvpool.so.1 in $libdir"
    exit 0
fi
echo "libconvpool: ldconfig ($libdir)"
ldconfig
