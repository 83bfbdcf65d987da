#!/bin/sh
# seed.sh - copy a seed corpus for a libFuzzer target into a corpus directory.
#
#   sh fuzz/seed.sh TARGET CORPUS_DIR      (run from the repository root)
#
# fuzz_safetensors: every golden .safetensors file, truncated copies of a small one, and a
#                   few tiny hand-made files (valid and invalid).
# fuzz_config:      models/*.yml, tests/fixtures/*.yml, tests/reference-configs/*.yml.
# Globs that match nothing are skipped silently. An unknown target exits 1.
set -u

if [ $# -ne 2 ]; then
    echo "usage: sh fuzz/seed.sh TARGET CORPUS_DIR" >&2
    exit 1
fi
target=$1
corpus=$2

# copy_glob PREFIX FILE...: copies each existing file as CORPUS/PREFIX-<name>, or as
# CORPUS/PREFIX-<parent dir>-<name> when PREFIX is "golden" (every case has a model.safetensors).
# An unmatched glob stays literal and is skipped by the -f test. Copies are made writable.
copy_glob() {
    prefix=$1
    shift
    for f in "$@"; do
        [ -f "$f" ] || continue
        name=$prefix-$(basename "$f")
        [ "$prefix" = golden ] && name=$prefix-$(basename "$(dirname "$f")")-$(basename "$f")
        rm -f "$corpus/$name"
        cat "$f" >"$corpus/$name" || exit 1
    done
}

# le64 N: prints N (< 2^32) as 8 little-endian bytes
le64() {
    n=$1
    i=0
    while [ $i -lt 8 ]; do
        # shellcheck disable=SC2059
        printf "\\$(printf '%03o' $((n % 256)))"
        n=$((n / 256))
        i=$((i + 1))
    done
}

# mk_st NAME JSON DATA_BYTES: a safetensors file with DATA_BYTES bytes of 0x3f data
mk_st() {
    len=$(printf '%s' "$2" | wc -c)
    {
        le64 "$len"
        printf '%s' "$2"
        dd if=/dev/zero bs=1 count="$3" 2>/dev/null | tr '\000' '?'
    } >"$corpus/$1.safetensors" || exit 1
}

case "$target" in
fuzz_safetensors)
    mkdir -p "$corpus" || exit 1
    copy_glob golden tests/golden/*/*.safetensors
    copy_glob regress tests/fixtures/fuzz/safetensors/*
    small=tests/golden/lite_dyn_glu/io.safetensors
    if [ -f "$small" ]; then
        for n in 64 200 1000 1056 2000; do
            rm -f "$corpus/truncated-$n"
            dd if="$small" of="$corpus/truncated-$n" bs=1 count=$n 2>/dev/null || exit 1
        done
    fi
    u8='"dtype":"U8","shape":[4],"data_offsets":[0,4]'
    mk_st tiny-f32 '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}' 8
    mk_st tiny-all '{"__metadata__":{"k":"v"},'\
'"s":{"dtype":"F64","shape":[],"data_offsets":[0,8]},'\
'"e":{"dtype":"BF16","shape":[0,3],"data_offsets":[8,8]},'\
'"b":{"dtype":"BOOL","shape":[1,1,2],"data_offsets":[8,10]},'\
'"i":{"dtype":"I16","shape":[3],"data_offsets":[10,16]}}' 16
    mk_st tiny-overlap '{"a":{'"$u8"'},"b":{"dtype":"I32","shape":[1],"data_offsets":[2,6]}}' 6
    mk_st tiny-dims '{"d":{"dtype":"U8","shape":[1,1,1,1,1,1,1,2],"data_offsets":[0,2]}}' 2
    mk_st tiny-huge '{"h":{"dtype":"I64","shape":[9007199254740992,512,0],"data_offsets":[0,0]}}' 0
    mk_st tiny-dup '{"a":{'"$u8"'},"a":{'"$u8"'}}' 4
    mk_st tiny-empty '{}' 0
    ;;
fuzz_config)
    mkdir -p "$corpus" || exit 1
    copy_glob models models/*.yml
    copy_glob fixtures tests/fixtures/*.yml
    copy_glob reference tests/reference-configs/*.yml
    ;;
*)
    echo "seed.sh: unknown target '$target' (expected fuzz_safetensors or fuzz_config)" >&2
    exit 1
    ;;
esac
exit 0
