#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) in build-fuzz/ and runs each one for
# SECONDS seconds (default 60) on a copy of its seed corpus, one after the other.
#   tests/fuzz/run.sh 30                 # every target, 30 s each
#   tests/fuzz/run.sh 600 fuzz_idx       # one target
# Any finding (a crash, a sanitizer report, a leak, a timeout, running out of memory) fails
# the run with exit status 1; the input is left in build-fuzz/findings/. There is no list of
# known crashes: libhdf5 parses files in a child process (optim/saving/hdf5_isolated.cpp), so
# a file that crashes libhdf5 is a px::Error like any other bad file.
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
  case "$1" in
    fuzz_keras_archive)
      for f in "$keras_files"/keras3_generated/*.keras "$keras_files"/*/*.keras; do
        [ -f "$f" ] && cp -n "$f" "$2/keras_$(basename "$f")"
      done ;;
    fuzz_weights_h5)
      # tests/data/hdf5: files that crash libhdf5 (README.md there).
      for f in "$keras_files"/keras3_generated/*.h5 "$keras_files"/hls4ml_example_models/*.h5 \
        tests/data/hdf5/*.h5; do
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
status=0
for t in "${targets[@]}"; do
  seeds="tests/fuzz/corpus/${t#fuzz_}"
  work="$build/corpus/${t#fuzz_}"
  mkdir -p "$work"
  [ -d "$seeds" ] && cp -n "$seeds"/* "$work"/ 2>/dev/null || true
  add_keras_seeds "$t" "$work"
  echo "== $t: ${seconds} s"
  log="$build/$t.log"
  rm -f "$build/findings/$t"-*
  common=(-max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536 -timeout=30
    -print_final_stats=1 -artifact_prefix="$build/findings/$t-")
  if nice -n "${FUZZ_NICE:-0}" "$build/tests/fuzz/$t" "${common[@]}" "$work" >"$log" 2>&1; then
    grep -E "^stat::number_of_executed_units|^Done [0-9]+ runs" "$log" | tail -2
  else
    echo "$t: FINDING (see $log and $build/findings/)"
    tail -40 "$log"
    status=1
  fi
done
exit $status
