#!/usr/bin/env bash
# Mutation testing (cosmic-ray) of the money, window and delivery-ledger code.
# See docs/testing.md: run it before changing that code, not in CI.
#
#   bench/mutation.sh                 every session (bench/mutation/*.toml)
#   bench/mutation.sh figures archive only these sessions
#
# PYTHON            the interpreter with execreport's dependencies and cosmic-ray
#                   (default: python3 on PATH)
# MUTATION_WORKERS  1 or 2 worker processes (default 2)
# MUTATION_OUT      where the session files and summary.txt go (default .mutation/)
#
# Each worker mutates its own copy of the work tree (in a temporary folder), never the work
# tree itself: a run that is stopped leaves no mutant behind. The copy is imported through
# PYTHONPATH (a folder `execreport` of links to core/, plugins/ and senders/, the layout
# pyproject's package-dir gives), which comes before the editable install.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
python=${PYTHON:-python3}
workers=${MUTATION_WORKERS:-2}
out=${MUTATION_OUT:-$repo/.mutation}
case $workers in 1 | 2) ;; *) echo "MUTATION_WORKERS must be 1 or 2" >&2; exit 2 ;; esac

bindir=$("$python" -c 'import os, sys; print(os.path.dirname(sys.executable))')
export PATH="$bindir:$PATH" # the configs' test-command says `python`
python -c 'import cosmic_ray' 2>/dev/null || {
    echo "cosmic-ray is not installed for $python: pip install -r bench/mutation/requirements.txt" >&2
    exit 2
}

# the archive sessions (the most code) first, then the largest, so the two workers end close together
all=(archive owners cto cfo accounting figures ceo ses smtp models cmo)
if [ $# -gt 0 ]; then sessions=("$@"); else sessions=("${all[@]}"); fi
for s in "${sessions[@]}"; do
    [ -f "$repo/bench/mutation/$s.toml" ] || { echo "no session $s (bench/mutation/$s.toml)" >&2; exit 2; }
done
for f in "$repo"/bench/mutation/*.toml; do
    s=$(basename "$f" .toml)
    [[ " ${all[*]} " == *" $s "* ]] || echo "note: $s is not in the default list of $0" >&2
done

start=$SECONDS
tmp=$(mktemp -d "${TMPDIR:-/tmp}/execreport-mutation.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"
rm -f "$out"/*.sqlite "$out"/summary.txt

# the plugins the suite installs (hypothesis, benchmark, xdist, timeout) take seconds to load
# per run and these tests need none of them; pyproject's addopts are left out for the same
# reason (each session's test-command gives its options)
export PYTEST_DISABLE_PLUGIN_AUTOLOAD=1
export EXECREPORT_LOAD_PLUGINS=""

make_copy() { # $1: the copy's folder
    mkdir -p "$1/src" "$1/site/execreport"
    (cd "$repo" && git ls-files -z --cached --others --exclude-standard |
        tar -cf - --null -T - --ignore-failed-read 2>/dev/null) | tar -xf - -C "$1/src"
    for entry in "$1"/src/core/*; do ln -s "$entry" "$1/site/execreport/"; done
    ln -s "$1/src/plugins" "$1/site/execreport/plugins"
    ln -s "$1/src/senders" "$1/site/execreport/senders"
    find "$1/src" -name __pycache__ -prune -exec rm -rf {} +
    local where
    where=$(in_copy "$1" python -c 'import execreport.plugins.roles.cfo as m; print(m.__file__)')
    case $where in "$1"/*) ;; *)
        echo "the copy is not what Python imports ($where)" >&2
        return 1
        ;;
    esac
}

in_copy() { # $1: the copy's folder, then the command
    local dir=$1
    shift
    (cd "$dir/src" && PYTHONPATH="$dir/site" PYTHONDONTWRITEBYTECODE=1 "$@")
}

pending() { # $1: a session file; the mutants not yet marked
    python - "$1" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
print(db.execute("SELECT count(*) FROM work_items WHERE job_id NOT IN "
                 "(SELECT job_id FROM work_results)").fetchone()[0])
PY
}

# one session in copy $1: list the mutants, skip those outside the selected functions or of
# an excluded operator, check that the unmutated code passes the tests, run the mutants
run_session() {
    local dir=$1 s=$2 t=$SECONDS cfg=bench/mutation/$2.toml db=$tmp/$2.sqlite command n
    in_copy "$dir" cosmic-ray init "$cfg" "$db"
    in_copy "$dir" cr-filter-operators "$db" "$cfg"
    in_copy "$dir" python bench/mutation/function_filter.py "$db" "$cfg"
    n=$(pending "$db")
    command=$(python -c 'import sys, tomllib; print(tomllib.load(open(sys.argv[1], "rb"))["cosmic-ray"]["test-command"])' "$dir/src/$cfg")
    # shellcheck disable=SC2086  # split as cosmic-ray splits it
    if ! in_copy "$dir" $command >"$tmp/$s.baseline" 2>&1; then
        echo "$s: the tests fail on the unmutated code; no mutant run:" >&2
        tail -20 "$tmp/$s.baseline" >&2
        return 1
    fi
    in_copy "$dir" cosmic-ray exec "$cfg" "$db"
    cp "$db" "$out/"
    echo "$s: $n mutants in $((SECONDS - t)) s"
}

# the workers take sessions off one queue, the next as soon as one is done
printf '%s\n' "${sessions[@]}" >"$tmp/queue"
take() {
    flock "$tmp/queue" sh -c 'head -n 1 "$1"; sed -i 1d "$1"' _ "$tmp/queue"
}
worker() { # $1: the worker's number
    local dir=$tmp/w$1 s failed=0
    make_copy "$dir"
    while s=$(take) && [ -n "$s" ]; do
        run_session "$dir" "$s" || failed=1
    done
    return $failed
}

pids=()
for n in $(seq "$workers"); do
    worker "$n" &
    pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done

files=()
for s in "${sessions[@]}"; do [ -f "$out/$s.sqlite" ] && files+=("$out/$s.sqlite"); done
summary_status=0
python "$repo/bench/mutation/summary.py" "${files[@]}" >"$out/summary.txt" || summary_status=$?
echo "total: $((SECONDS - start)) s with $workers worker(s)" >>"$out/summary.txt"
sed -n '1,/^score/p' "$out/summary.txt"
tail -n 1 "$out/summary.txt"
echo "survivors and their diffs: $out/summary.txt"
[ $status = 0 ] && [ $summary_status = 0 ]
