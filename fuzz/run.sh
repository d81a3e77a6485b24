#!/usr/bin/env bash
# Builds every fuzz target once, then runs each for SECONDS (default 20; CI runs them briefly,
# by hand give them minutes or hours). Exits non-zero when any target crashed, panicked, leaked,
# ran out of memory or took longer than FUZZ_TIMEOUT seconds (default 10) on one input, and
# prints where the input that did it went.
#
#   bash fuzz/run.sh [SECONDS] [TARGET…]
#
# Environment: CARGO_TARGET_DIR (the build goes to "$CARGO_TARGET_DIR/fuzz", else
# fuzz/target), FUZZ_WORK (the working corpus and the logs; "<build>/work" by default),
# FUZZ_SANITIZER (address, the default, or none), FUZZ_MAX_LEN (the longest input tried;
# libFuzzer's own default otherwise), FUZZ_TIMEOUT, FUZZ_ARGS (more libFuzzer flags).
#
# The committed seeds (fuzz/corpus/TARGET) are read, never written: what the fuzzer finds goes
# to the working corpus, kept between runs so a long run builds on the last.
set -euo pipefail
cd "$(dirname "$0")"

seconds="${1:-20}"
shift || true
# cargo fuzz passes nightly flags (-Zsanitizer, sanitizer coverage); this lets the stable
# toolchain take them.
export RUSTC_BOOTSTRAP=1
build_dir="${CARGO_TARGET_DIR:+$CARGO_TARGET_DIR/fuzz}"
build_dir="${build_dir:-$PWD/target}"
work="${FUZZ_WORK:-$build_dir/work}"
sanitizer="${FUZZ_SANITIZER:-address}"
# The fuzzer's own flags; the gateways are built optimized, with debug assertions and overflow
# checks, as cargo fuzz does by default.
flags=(--sanitizer "$sanitizer" --target-dir "$build_dir")

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo fuzz list)
fi

started=$SECONDS
cargo fuzz build "${flags[@]}"
echo "built ${#targets[@]} targets in $((SECONDS - started)) s (sanitizer: $sanitizer)"

libfuzzer=(-max_total_time="$seconds" -timeout="${FUZZ_TIMEOUT:-10}" -rss_limit_mb=2048
  -print_final_stats=1)
[ -n "${FUZZ_MAX_LEN:-}" ] && libfuzzer+=(-max_len="$FUZZ_MAX_LEN")
# shellcheck disable=SC2206 # FUZZ_ARGS is a list of flags
[ -n "${FUZZ_ARGS:-}" ] && libfuzzer+=($FUZZ_ARGS)

# The last figure libFuzzer printed for `stat::$1` in $log.
stat() { grep -Eo "^stat::$1: *[0-9]+" "$log" | grep -Eo '[0-9]+$' | tail -1 || true; }

failed=()
printf '\n%-22s %12s %8s %8s %9s  %s\n' target executions exec/s corpus slowest/s result
for target in "${targets[@]}"; do
  mkdir -p "$work/corpus/$target" "$work/logs" "artifacts/$target"
  log="$work/logs/$target.log"
  result=ok
  if ! cargo fuzz run "${flags[@]}" "$target" "$work/corpus/$target" "corpus/$target" -- \
    "${libfuzzer[@]}" >"$log" 2>&1; then
    result=FAILED
    failed+=("$target")
  fi
  units=$(find "$work/corpus/$target" -type f | wc -l)
  printf '%-22s %12s %8s %8s %9s  %s\n' "$target" "$(stat number_of_executed_units)" \
    "$(stat average_exec_per_sec)" "$units" "$(stat slowest_unit_time_sec)" "$result"
  if [ "$result" != ok ]; then
    echo "----- $target: the end of libFuzzer's output ($log) -----"
    tail -n 60 "$log"
    grep -Eo 'Test unit written to [^ ]+' "$log" | while read -r _ _ _ _ input; do
      echo "----- the input that did it: $input (base64 below) -----"
      base64 -w 76 "$input"
      echo "----- reproduce: cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run -s $sanitizer --target-dir $build_dir $target $input"
    done
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzzing failed: ${failed[*]} (inputs under fuzz/artifacts/)" >&2
  exit 1
fi
echo "fuzzing: ${#targets[@]} targets, ${seconds} s each, no crash ($((SECONDS - started)) s in all)"
