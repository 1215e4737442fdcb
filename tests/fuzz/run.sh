#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) in build-fuzz/ and runs each one for
# SECONDS seconds (default 60) on a copy of its seed corpus, one after the other.
#   tests/fuzz/run.sh 30                 # every target, 30 s each
#   tests/fuzz/run.sh 600 fuzz_idx       # one target
# A finding stops with exit status 1; the crashing input is left in build-fuzz/findings/.
# The targets that read HDF5 (fuzz_weights_h5, fuzz_keras_archive) run in libFuzzer's fork
# mode and go on after a crash: each crashing input is replayed and its stack read, and a
# crash whose innermost frame (below the sanitizer and libc frames) is in libhdf5 is printed
# as a KNOWN LIBHDF5 CRASH (libhdf5 1.10 dereferences corrupt global heaps before plexus can
# see the data: tests/fuzz/known_hdf5_crashes/README.md); an input that passes when replayed
# alone is printed as NOT REPRODUCED (fork mode can name the wrong input for a leak or a
# crash that needed earlier inputs' state); any other finding fails the run.
# Environment: FUZZ_BUILD_DIR (default build-fuzz), FUZZ_JOBS (default 2), FUZZ_NICE (nice
# level for the runs, default 0), PLEXUS_KERAS_FILES (default ../shared/keras_files: real
# Keras files added to the saving targets' work corpus when present; never copied into the
# repository).
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-60}"
shift || true
build="${FUZZ_BUILD_DIR:-build-fuzz}"
# A folder already configured with PLEXUS_FUZZ=ON is used as it is (CI's sanitizer stage
# builds the suite and the fuzz targets in one clang folder); otherwise configure one that
# holds only the library and the fuzz targets.
if ! grep -q '^PLEXUS_FUZZ:BOOL=ON' "$build/CMakeCache.txt" 2>/dev/null; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_COMPILER=clang++ -DPLEXUS_FUZZ=ON -DPLEXUS_BUILD_TESTS=OFF \
    -DPLEXUS_BUILD_APPS=OFF >/dev/null
fi
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in tests/fuzz/fuzz_*.cpp; do targets+=("$(basename "$f" .cpp)"); done
fi
cmake --build "$build" -j"${FUZZ_JOBS:-2}" --target "${targets[@]}"
mkdir -p "$build/findings"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
# Real Keras files as extra seeds for the saving readers (fuzz_weights_h5 inputs start with
# a mode byte: 0 load_weights, 1 load_model).
keras_files="${PLEXUS_KERAS_FILES:-../shared/keras_files}"
add_keras_seeds() {
  [ -d "$keras_files" ] || return 0
  case "$1" in
    fuzz_keras_archive)
      for f in "$keras_files"/keras3_generated/*.keras "$keras_files"/*/*.keras; do
        [ -f "$f" ] && cp -n "$f" "$2/keras_$(basename "$f")"
      done ;;
    fuzz_weights_h5)
      for f in "$keras_files"/keras3_generated/*.h5 "$keras_files"/hls4ml_example_models/*.h5; do
        [ -f "$f" ] || continue
        { printf '\000'; cat "$f"; } >"$2/w_$(basename "$f")"
        { printf '\001'; cat "$f"; } >"$2/m_$(basename "$f")"
      done ;;
    fuzz_model_json)
      for f in "$keras_files"/hls4ml_example_models/*.json; do
        [ -f "$f" ] && cp -n "$f" "$2/keras_$(basename "$f")"
      done ;;
  esac
  return 0
}
# The innermost stack frame of a replayed input that is not the sanitizer's (its runtime and
# the allocator and string functions it intercepts), libFuzzer's or libc's own.
innermost_frame() {
  grep -E '^ *#[0-9]+ 0x' |
    grep -vE '__sanitizer|__asan|__ubsan|__interceptor|fuzzer::|libc\.so|libclang_rt|compiler-rt|asan_|ubsan_|sanitizer_common' |
    grep -vE ' in (malloc|calloc|realloc|free|posix_memalign|aligned_alloc|memalign|memcpy|memmove|memset|memcmp|strlen|strnlen|strcmp|strncmp|strcpy|strncpy|operator new|operator delete)[ (\[]' |
    head -1
}
# Replays every input $1 left in findings/; fails unless each crashed inside libhdf5.
classify_findings() {
  local t="$1" bin="$build/tests/fuzz/$1" ok=0 f report frame rc
  for f in "$build/findings/$t"-*; do
    [ -f "$f" ] || continue
    rc=0
    report="$(timeout 300 "$bin" -timeout=10 -rss_limit_mb=2048 "$f" 2>&1)" || rc=$?
    frame="$(printf '%s\n' "$report" | innermost_frame)"
    if [ "$rc" -eq 0 ] && ! printf '%s' "$report" | grep -qE 'ERROR: [A-Za-z]+Sanitizer|ERROR: libFuzzer|runtime error'; then
      # Fork mode saves the input a child was running when it failed; a leak found at a
      # child's exit, or a crash that needed the state earlier inputs left in libhdf5, can
      # name an input that passes alone. Printed, not failed: the input alone is clean.
      echo "$t: NOT REPRODUCED (the input passes when replayed alone): $(basename "$f")"
    elif printf '%s' "$frame" | grep -qE ' in H5[A-Za-z0-9_]+|libhdf5'; then
      echo "$t: KNOWN LIBHDF5 CRASH (not plexus): $(basename "$f"): $(echo "$frame" | sed -E 's/^ *//; s/ \(BuildId.*//')"
      printf '%s\n' "$report" | grep -m1 -E 'ERROR: (AddressSanitizer|libFuzzer|LeakSanitizer)|runtime error' || true
    else
      echo "$t: FINDING $f"
      printf '%s\n' "$report" | tail -40
      ok=1
    fi
  done
  return $ok
}
hdf5_targets=" fuzz_weights_h5 fuzz_keras_archive "
status=0
for t in "${targets[@]}"; do
  seeds="tests/fuzz/corpus/${t#fuzz_}"
  work="$build/corpus/${t#fuzz_}"
  mkdir -p "$work"
  [ -d "$seeds" ] && cp -n "$seeds"/* "$work"/ 2>/dev/null || true
  add_keras_seeds "$t" "$work"
  echo "== $t: ${seconds} s"
  log="$build/$t.log"
  common=(-max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536 -timeout=30
    -print_final_stats=1 -artifact_prefix="$build/findings/$t-")
  if [[ "$hdf5_targets" == *" $t "* ]]; then
    rm -f "$build/findings/$t"-*
    rc=0
    nice -n "${FUZZ_NICE:-0}" "$build/tests/fuzz/$t" "${common[@]}" -fork=1 -ignore_crashes=1 \
      -ignore_timeouts=1 "$work" >"$log" 2>&1 || rc=$?
    grep -E "^#[0-9]+: cov" "$log" | tail -1 || true
    if ! classify_findings "$t"; then
      status=1
    elif [ "$rc" -ne 0 ] && ! ls "$build/findings/$t"-* >/dev/null 2>&1; then
      echo "$t: exited with status $rc and left no input (see $log)"
      tail -40 "$log"
      status=1
    fi
  elif nice -n "${FUZZ_NICE:-0}" "$build/tests/fuzz/$t" "${common[@]}" "$work" >"$log" 2>&1; then
    grep -E "^stat::number_of_executed_units|^Done [0-9]+ runs" "$log" | tail -2
  else
    echo "$t: FINDING (see $log and $build/findings/)"
    tail -40 "$log"
    status=1
  fi
done
exit $status
