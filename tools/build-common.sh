# Sourced by tools/run-example.sh and tools/run-tests.sh: configure and
# build a meson build dir, quiet on success and loud on failure.
#
# configure DIR ARGS...  meson setup DIR with ARGS. An existing DIR is
#     reconfigured, or wiped and set up again when the installed Debian
#     packages changed since its last setup: meson caches what it detected
#     (oneDNN, Check, ...), and a package installed in between must count.
# build DIR              meson compile -C DIR
# On failure both print the command's output (the compiler's error) and
# exit non-zero.

# What meson may detect, summed up: the dpkg database changes with every
# install or removal.
_convpool_system_state() {
    { cat /var/lib/dpkg/status 2>/dev/null || true; } | cksum
}

# _convpool_logged CMD...: CMD's output goes to a temporary log (not in the
# build dir, which meson setup --wipe empties), printed if CMD fails.
_convpool_logged() {
    local log
    log=$(mktemp "${TMPDIR:-/tmp}/convpool-build.XXXXXX")
    if ! "$@" >"$log" 2>&1; then
        echo "FAILED: $*" >&2
        cat "$log" >&2
        echo "(output kept in $log)" >&2
        exit 1
    fi
    rm -f "$log"
}

configure() {
    local dir=$1
    shift
    local state stamp
    state=$(_convpool_system_state)
    stamp=$dir/.convpool-system-state
    if [ -f "$dir/meson-private/coredata.dat" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$state" ]; then
        _convpool_logged meson setup --reconfigure "$dir" "$@"
    elif [ -f "$dir/meson-private/coredata.dat" ]; then
        _convpool_logged meson setup --wipe "$dir" "$@"
    else
        _convpool_logged meson setup "$dir" "$@"
    fi
    echo "$state" >"$stamp"
}

build() {
    _convpool_logged meson compile -C "$1"
}
