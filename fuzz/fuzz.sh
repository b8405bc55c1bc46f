#!/usr/bin/env bash
# Coverage-guided fuzzing of every parser of untrusted input (fuzz/README.md): builds fuzz/Porter.Fuzz, instruments
# net-porter's assemblies with SharpFuzz, replays the seed corpus and the past findings, then runs afl-fuzz on each
# target for SECONDS. Fails on any crash, reproducible hang or unexpected exception, printing the input (base64) and
# the exception.
#
#   fuzz/fuzz.sh [TARGET|all] [SECONDS]        (just fuzz target=all seconds=60)
set -euo pipefail
cd "$(dirname "$0")/.."

target="${1:-all}"
seconds="${2:-60}"
out="$(realpath -m "${FUZZ_OUT:-out/fuzz}")"
# afl-fuzz's limit per execution. Generous: a crash restarts SharpFuzz's .NET child, and that start is timed too.
timeout_ms="${FUZZ_TIMEOUT_MS:-5000}"

if ! command -v afl-fuzz >/dev/null 2>&1; then
  echo "fuzz: afl-fuzz is not installed: run 'just deps' (or 'apt-get install afl++')" >&2
  exit 1
fi
if ! [[ "$seconds" =~ ^[1-9][0-9]*$ ]]; then
  echo "fuzz: SECONDS must be a positive whole number, not '$seconds'" >&2
  exit 1
fi

bin="$out/bin"
fuzz=(dotnet "$bin/Porter.Fuzz.dll")

# SharpFuzz instruments in place and refuses an instrumented assembly, so every run starts from a fresh build.
rm -rf "$bin"
echo "fuzz: building and instrumenting"
mkdir -p "$out"
if ! dotnet build fuzz/Porter.Fuzz -c Release -o "$bin" -nologo -v quiet >"$out/build.log" 2>&1; then
  cat "$out/build.log" >&2
  echo "fuzz: building fuzz/Porter.Fuzz failed" >&2
  exit 1
fi
# The sharpfuzz tool is pinned in fuzz/dotnet-tools.json.
(cd fuzz && dotnet tool restore >/dev/null)
for dll in net-porter-server.dll net-porter.dll Porter.Protocol.dll Google.Protobuf.dll; do
  if ! (cd fuzz && dotnet tool run sharpfuzz "$bin/$dll") >"$out/instrument.log" 2>&1; then
    cat "$out/instrument.log" >&2
    echo "fuzz: instrumenting $dll failed" >&2
    exit 1
  fi
done

if [ "$target" = all ]; then
  mapfile -t targets < <("${fuzz[@]}" list | cut -f1)
else
  targets=("$target")
  "${fuzz[@]}" list | cut -f1 | grep -qx -- "$target" || { echo "fuzz: unknown target '$target'" >&2; "${fuzz[@]}" list >&2; exit 1; }
fi

failed=()
summary=()
for t in "${targets[@]}"; do
  echo "fuzz: $t: replaying the seed corpus and past findings"
  replay=("fuzz/corpus/$t")
  [ -d "fuzz/regressions/$t" ] && replay+=("fuzz/regressions/$t")
  if ! "${fuzz[@]}" replay "$t" "${replay[@]}"; then
    failed+=("$t (corpus replay)")
    continue
  fi

  findings="$out/findings/$t"
  rm -rf "$findings"
  mkdir -p "$findings"
  dict=()
  [ -f "fuzz/dict/$t.dict" ] && dict=(-x "fuzz/dict/$t.dict")
  echo "fuzz: $t: afl-fuzz for ${seconds}s"
  # No CPU pinning or governor check (a shared machine), no core_pattern change (the machine's own setting), no UI.
  if ! AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 \
    AFL_FORKSRV_INIT_TMOUT=60000 \
    afl-fuzz -i "fuzz/corpus/$t" -o "$findings" -t "$timeout_ms" -m none -V "$seconds" "${dict[@]}" \
    -- "${fuzz[@]}" afl "$t" >"$findings/afl.log" 2>&1; then
    echo "fuzz: $t: afl-fuzz failed; the end of its log ($findings/afl.log):" >&2
    tail -n 30 "$findings/afl.log" >&2
    failed+=("$t (afl-fuzz failed)")
    continue
  fi

  stats="$findings/default/fuzzer_stats"
  stat() { sed -n "s/^$1 *: *//p" "$stats"; }
  summary+=("$(printf '%-16s %6ss %9s execs %6s paths %3s crashes %3s hangs' "$t" "$(stat run_time)" "$(stat execs_done)" \
    "$(stat corpus_count)" "$(stat saved_crashes)" "$(stat saved_hangs)")")

  bad=0
  crashes=("$findings"/default/crashes/id:*)
  if [ -e "${crashes[0]}" ]; then
    bad=1
    echo "fuzz: $t: afl-fuzz saved ${#crashes[@]} crashing input(s); replayed in-process:"
    rc=0
    "${fuzz[@]}" replay "$t" "${crashes[@]}" || rc=$?
    if [ "$rc" -gt 1 ]; then
      # The replay itself died (a stack overflow ends the process): one process per input, so that the output names it.
      for crash in "${crashes[@]}"; do
        echo "fuzz: $t: $crash, input (base64): $(base64 -w0 "$crash")"
        "${fuzz[@]}" replay "$t" "$crash" 2>&1 | tail -n 20 || true
      done
    elif [ "$rc" = 0 ]; then
      echo "fuzz: $t: none of them fails in-process (they crashed only under afl-fuzz); inputs (base64):"
      for crash in "${crashes[@]}"; do echo "  $(base64 -w0 "$crash")"; done
    fi
  fi
  for hang in "$findings"/default/hangs/id:*; do
    [ -e "$hang" ] || continue
    # afl-fuzz times the whole execution, a restarted child's start-up included, on a machine that may be busy:
    # a hang counts when it also hangs (or fails) in-process.
    if "${fuzz[@]}" replay "$t" "$hang" >/dev/null 2>&1; then
      echo "fuzz: $t: afl-fuzz timeout $hang finishes in-process: a slow execution on a busy machine, not a hang"
    else
      bad=1
      echo "fuzz: $t: afl-fuzz hang $hang:"
      "${fuzz[@]}" replay "$t" "$hang" 2>&1 || true
    fi
  done
  [ "$bad" = 0 ] || failed+=("$t (findings in $findings/default)")
done

echo "fuzz: results (${seconds}s per target):"
printf '  %s\n' "${summary[@]}"
if [ "${#failed[@]}" -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]}" >&2
  echo "fuzz: add each minimized input to fuzz/regressions/TARGET/ with a regression test, then fix the parser (fuzz/README.md)" >&2
  exit 1
fi
echo "fuzz: no findings"
