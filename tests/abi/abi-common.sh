# abi-common.sh - sourced by the ABI checks and by update-baseline.sh, so
# that the baseline and the checks always extract the ABI the same way.

# The dynamic symbols `$1` defines, one per line, versions included
# (convpool_version@@CONVPOOL_1.0), plus the version nodes (CONVPOOL_1.0),
# sorted bytewise.
exported_symbols() {
    "${NM:-nm}" -D --defined-only "$1" | awk 'NF { print $NF }' | LC_ALL=C sort
}

# Writes the libabigail ABI description of library `$1`, restricted to the
# types of the public headers in directory `$2`, to file `$3`. Paths,
# source locations and the compilation directory are left out, so the
# baseline does not change with the checkout path or with edits that only
# move declarations around.
abi_dump() {
    abidw --no-corpus-path --no-show-locs --no-comp-dir-path --drop-private-types \
        --headers-dir "$2" --out-file "$3" "$1"
}
