#!/usr/bin/env bash
# What a user's translation unit costs to compile: `#include <plexus.hpp>` alone, a docs
# example (docs/examples/training.cpp), two walkthroughs (apps/mnist_mlp.cpp,
# apps/quickstart.cpp), each one translation unit at -O2 with the flags the package exports
# (-std=c++20 -DXTENSOR_USE_XSIMD -march=native -DFMT_SHARED); then the same with
# <plexus.hpp> precompiled (the one-line CMake recipe of docs/getting_started.md does the
# same). Wall and user seconds and peak memory of the compiler, best of REPS runs.
#
#   apps/bench_compile.sh                  # this checkout
#   apps/bench_compile.sh --before REV     # and the headers of git revision REV, same run
#
# Environment: CXX (default g++), REPS (default 3).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
before=""
if [ "${1:-}" = "--before" ]; then before="$2"; fi
cxx="${CXX:-g++}"
reps="${REPS:-3}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
flags=(-std=c++20 -O2 -DXTENSOR_USE_XSIMD -march=native -DFMT_SHARED)
if [ -n "$(pkg-config --cflags CLI11 2>/dev/null || true)" ]; then
  flags+=($(pkg-config --cflags CLI11))
fi

printf '#include <plexus.hpp>\nint main() { return 0; }\n' >"$work/include_only.cpp"
sources=("$work/include_only.cpp" docs/examples/training.cpp apps/mnist_mlp.cpp
         apps/quickstart.cpp)

# best "wall user rss_mb" of REPS compiles of $2 with include root $1 (and extra flags).
measure() {
  local inc="$1" src="$2"
  shift 2
  local best=""
  for _ in $(seq "$reps"); do
    local line
    /usr/bin/time -o "$work/time" -f "%e %U %M" "$cxx" "${flags[@]}" "$@" -I "$inc" \
      -c "$src" -o "$work/out.o" >/dev/null 2>"$work/err" || true
    line=$(tail -1 "$work/time")
    if [ ! -s "$work/out.o" ]; then
      echo "compile failed: $src" >&2
      cat "$work/err" >&2
      return 1
    fi
    rm -f "$work/out.o"
    if [ -z "$best" ] || awk -v a="$line" -v b="$best" 'BEGIN{split(a,x," ");split(b,y," ");exit !(x[1]<y[1])}'; then
      best="$line"
    fi
  done
  awk -v l="$best" 'BEGIN{split(l,x," "); printf "%7.2f %7.2f %8.0f", x[1], x[2], x[3]/1024}'
}

# The precompiled <plexus.hpp> for include root $1, in $2.
make_pch() {
  mkdir -p "$2"
  printf '#include <plexus.hpp>\n' >"$2/plexus_pch.hpp"
  "$cxx" "${flags[@]}" -I "$1" -x c++-header "$2/plexus_pch.hpp" -o "$2/plexus_pch.hpp.gch"
}

roots=("$root")
labels=("this checkout")
if [ -n "$before" ]; then
  git -C "$root" worktree add --detach "$work/before" "$before" >/dev/null 2>&1
  roots+=("$work/before")
  labels+=("$before")
fi

echo "compiler: $("$cxx" --version | head -1); flags: ${flags[*]}; best of $reps"
printf '%-16s %-28s %7s %7s %8s\n' headers file wall_s user_s max_mb
for i in "${!roots[@]}"; do
  r="${roots[$i]}"
  for src in "${sources[@]}"; do
    s="$src"
    [[ "$src" = /* ]] || s="$r/$src"
    [ -f "$s" ] || continue
    printf '%-16s %-28s %s\n' "${labels[$i]:0:16}" "$(basename "$src")" "$(measure "$r" "$s")"
  done
  make_pch "$r" "$work/pch$i"
  for src in "${sources[@]}"; do
    s="$src"
    [[ "$src" = /* ]] || s="$r/$src"
    [ -f "$s" ] || continue
    printf '%-16s %-28s %s\n' "${labels[$i]:0:9}+pch" "$(basename "$src")" \
      "$(measure "$r" "$s" -include "$work/pch$i/plexus_pch.hpp" -Winvalid-pch)"
  done
done
if [ -n "$before" ]; then git -C "$root" worktree remove --force "$work/before" >/dev/null 2>&1; fi
