#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The mynacard authors
#
# The performance benchmark of issue 6, side by side with OpenSC 0.23's
# opensc-pkcs11.so on the same virtual card behind the same private pcscd
# (tests/system/lib.sh), with the virtual card's latency model on.  Each
# scenario of bench-p11 runs BENCH_REPS times for each module, the modules
# taking turns; APDUs and bytes come from the card's --stats-file, wall
# time from bench-p11.  Then bench-cpu (in process, card excluded) and its
# callgrind instruction count.  Writes the report, doc/benchmark.md.
#
#   sudo bash tests/bench/run-bench.sh [BUILD_DIR]
#
# BUILD_DIR: a configured and built meson build directory (default build/).
# Environment: BENCH_REPORT (default doc/benchmark.md of the source tree),
# BENCH_REPS (default 5), BENCH_SCENARIOS (a subset, for trials),
# BENCH_PROFILES (the card profiles our module runs on again, alone, after
# the side-by-side on the classic card; default "strict contactless"),
# OPENSC_MODULE, and the latency model
# BENCH_LAT_APDU_US, BENCH_LAT_BYTE_US, BENCH_LAT_SIGN_US (see the report).
# Needs root, pcscd, vsmartcard-vpcd, opensc, valgrind (for the
# instruction count; skipped without it).  Takes about ten minutes.

SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$SRC/build}
BUILD=$(cd "$BUILD" 2>/dev/null && pwd) || { echo "run-bench: no build directory ${1:-$SRC/build}" >&2; exit 2; }
export MYNACARD_EMU=${MYNACARD_EMU:-$BUILD/tests/emu/mynacard-emu}
export MYNACARD_TEST_TMP=${MYNACARD_TEST_TMP:-$BUILD/tests/bench/tmp}
# Stay out of lib.sh's TAP conventions: a skip here is an error.
export SYS_SKIP_STATUS=1

. "$SRC/tests/system/lib.sh"
set -u

BENCH=$BUILD/tests/bench/bench-p11
PCSC_RAW=$BUILD/tests/system/faults/pcsc-raw
PROFILES=${BENCH_PROFILES-strict contactless}
BENCH_CPU=$BUILD/tests/bench/bench-cpu
OURS=$BUILD/module/mynacard-pkcs11.so
OPENSC=${OPENSC_MODULE:-/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so}
REPORT=${BENCH_REPORT:-$SRC/doc/benchmark.md}
REPS=${BENCH_REPS:-5}
LAT_APDU=${BENCH_LAT_APDU_US:-5000}
LAT_BYTE=${BENCH_LAT_BYTE_US:-260}
LAT_SIGN=${BENCH_LAT_SIGN_US:-150000}
AUTH_PIN=1234
SIGN_PIN=ABC123
WARM_COUNT=10
THREAD_SIGS=2
POLL_ROUNDS=20
POLL_INTERVAL_MS=30   # Firefox's 3 s, compressed 100 times

for f in "$BENCH" "$BENCH_CPU" "$OURS" "$MYNACARD_EMU" "$PCSC_RAW"; do
    [ -x "$f" ] || [ -f "$f" ] || sys_fail "$f is missing: build $BUILD first"
done
[ -e "$OPENSC" ] || sys_fail "OpenSC's module is missing ($OPENSC)"

sys_setup
CARD=$SYS_WORK/card
STATS=$SYS_WORK/stats
RESULTS=$SYS_WORK/results
: >"$RESULTS"
sys_card_init "$CARD" --auth-pin "$AUTH_PIN" --sign-pin "$SIGN_PIN"
sys_start_pcscd
# The side-by-side runs on the classic card: OpenSC 0.23 works on no other
# (it neither repeats a command answered 6F00 nor signs once an empty
# VERIFY answers 90 00; doc/jpki-card.md).
emu_start() {
    sys_start_emu "$CARD" --stats-file "$STATS" --profile "$1" \
        --latency-apdu-us "$LAT_APDU" --latency-byte-us "$LAT_BYTE" \
        --latency-sign-us "$LAT_SIGN"
}
emu_start classic

# opensc-tool's number for the test's reader.
SYS_READER_INDEX=$(opensc-tool -l 2>/dev/null |
    awk -v r="$SYS_READER" 'index($0, r) && $1 ~ /^[0-9]+$/ { print $1; exit }')
[ -n "$SYS_READER_INDEX" ] || sys_fail "no opensc-tool number for $SYS_READER"

SCENARIOS=${BENCH_SCENARIOS:-startup tls pdf warm poll threads}

# The bench-p11 command line of scenario $1 with module $2 (for the report).
# A path as the report prints it: relative to the source tree when inside
# it, so that the report names no path of the machine it was made on.
shown() {
    case $1 in
    "$SRC"/*) echo "${1#"$SRC"/}" ;;
    *) echo "$1" ;;
    esac
}

bench_cmd() {
    local sc=$1 mod=$2 extra=""
    case $sc in
    warm) extra="--count $WARM_COUNT" ;;
    threads) extra="--count $THREAD_SIGS" ;;
    poll) extra="--rounds $POLL_ROUNDS --interval-ms $POLL_INTERVAL_MS" ;;
    esac
    echo "$BENCH --module $mod --scenario $sc --stats STATS --auth-pin $AUTH_PIN --sign-pin $SIGN_PIN${extra:+ $extra}"
}

# Reset the card (cold, through pcscd): every run starts from a card with
# no PIN verified, as after an insertion, whatever the run before left.
reset_card() {
    opensc-tool -r "$SYS_READER_INDEX" --reset cold >>"$SYS_WORK/reset.log" 2>&1 ||
        sys_fail "opensc-tool --reset failed (see $SYS_WORK/reset.log)"
}

# On the strict cards a warm reset keeps verified PINs (our module leaves
# none: it powers the card down when it finishes), and the first command
# after power comes back is answered 6F00.  A program that stays (KEEPER)
# holds the card powered, as a browser would, and each run starts from a
# warm reset and one answered command: every run then meets the card in
# the same state.  (The first program after a power cycle pays one more
# APDU, the 6F00, on these cards; that is the card's cost, the same for
# any program.)
reset_card_warm() {
    timeout 60 "$PCSC_RAW" "$SYS_READER" --reset 00A4040C0AD392F000260100000001 \
        >>"$SYS_WORK/reset.log" 2>&1 ||
        sys_fail "pcsc-raw --reset failed (see $SYS_WORK/reset.log)"
}
RESET=reset_card

run_one() {
    local sc=$1 who=$2 mod=$3 rep=$4 line cmd
    $RESET
    cmd=$(bench_cmd "$sc" "$mod")
    cmd=${cmd/STATS/$STATS}
    line=$(timeout 600 $cmd 2>>"$SYS_WORK/bench-$who.err")
    local rc=$?
    sys_log "$who $sc #$rep: $line (exit $rc)"
    [ -n "$line" ] || line="scenario=$sc apdus=0 bytes_in=0 bytes_out=0 wall_us=0 per=1 ops=0 errors=1 refused=0"
    echo "who=$who rep=$rep rc=$rc $line" >>"$RESULTS"
}

for rep in $(seq "$REPS"); do
    for sc in $SCENARIOS; do
        run_one "$sc" ours "$OURS" "$rep"
        run_one "$sc" opensc "$OPENSC" "$rep"
    done
done

# Our module alone on the other card profiles.
RESET=reset_card_warm
for profile in $PROFILES; do
    sys_stop_emu
    emu_start "$profile"
    "$PCSC_RAW" "$SYS_READER" --hold 100000 00A4040C0AD392F000260100000001 \
        >"$SYS_WORK/keeper.out" 2>&1 &
    KEEPER=$!
    sys_track "$KEEPER"
    sleep 1
    for rep in $(seq "$REPS"); do
        for sc in $SCENARIOS; do
            run_one "$sc" "ours-$profile" "$OURS" "$rep"
        done
    done
    sys_kill "$KEEPER"
    sys_untrack "$KEEPER"
done

sys_stop_emu

# ---- CPU, card excluded ----
CPU_CARD=$SYS_WORK/cpu-card
sys_card_init "$CPU_CARD"
CPU_ITERS=20000
CPU_OUT=$("$BENCH_CPU" --card "$CPU_CARD" --iterations "$CPU_ITERS" 2>&1)
CPU_RC=$?
sys_log "bench-cpu: $CPU_OUT"
CG_ITERS=500
CG_OUT=""
CG_IR=""
if command -v valgrind >/dev/null; then
    valgrind --tool=callgrind --toggle-collect=measured_loop \
        --callgrind-out-file="$SYS_WORK/callgrind.out" \
        "$BENCH_CPU" --card "$CPU_CARD" --iterations "$CG_ITERS" \
        >"$SYS_WORK/cg.out" 2>"$SYS_WORK/cg.err"
    CG_IR=$(awk '/^summary:/ { print $2 }' "$SYS_WORK/callgrind.out")
    CG_OUT=$(cat "$SYS_WORK/cg.out")
fi

# ---- The report ----

# field NAME LINE: the value of NAME=... in a results line.
field() {
    local name=$1 line=$2
    echo "$line" | tr ' ' '\n' | awk -F= -v n="$name" '$1 == n { print $2 }'
}

# stat WHO SC NAME: "median min max" of NAME over the repetitions, per
# repetition of the scenario (warm: per signature).
stat() {
    awk -v w="$1" -v s="$2" -v n="$3" '
        {
            for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
            if (f["who"] == w && f["scenario"] == s) {
                v[++c] = f[n] / (f["per"] > 0 ? f["per"] : 1)
            }
        }
        END {
            if (c == 0) { print "- - -"; exit }
            for (i = 1; i <= c; i++) for (j = i + 1; j <= c; j++)
                if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
            printf "%g %g %g\n", v[int((c + 1) / 2)], v[1], v[c]
        }' "$RESULTS"
}

refused_of() {
    awk -v w="$1" -v s="$2" '
        { for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
          if (f["who"] == w && f["scenario"] == s) r += f["refused"] }
        END { print r + 0 }' "$RESULTS"
}

errors_of() {
    awk -v w="$1" -v s="$2" '
        { for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
          if (f["who"] == w && f["scenario"] == s) e += f["errors"] + (f["rc"] != 0) }
        END { print e + 0 }' "$RESULTS"
}

ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN {
        if (a == "-" || b == "-") { print "-"; exit }
        if (b == 0) { print (a == 0 ? "1 (both 0)" : "∞"); exit }
        printf "%.2f\n", a / b }'
}

ms() {
    awk -v u="$1" 'BEGIN { if (u == "-") print "-"; else printf "%.1f\n", u / 1000 }'
}

title_of() {
    case $1 in
    startup) echo "1. Start-up as NSS does it" ;;
    tls) echo "2. A TLS login" ;;
    pdf) echo "3. A PDF signature" ;;
    warm) echo "4. A warm signature (per signature, mean of $WARM_COUNT)" ;;
    poll) echo "5. A minute of Firefox-style polling ($POLL_ROUNDS rounds; wall time inside the module only)" ;;
    threads) echo "6. 8 threads signing at once on both tokens ($THREAD_SIGS signatures each)" ;;
    esac
}

COMMIT=$(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || echo unknown)
DIRTY=$(git -C "$SRC" status --porcelain --untracked-files=no 2>/dev/null | wc -l)
[ "$DIRTY" = 0 ] && DIRTY_NOTE="" || DIRTY_NOTE=" plus uncommitted changes"
CPU_MODEL=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
OPENSC_VER=$(dpkg-query -W -f='${Version}' opensc 2>/dev/null || echo unknown)
PCSCD_VER=$(dpkg-query -W -f='${Version}' pcscd 2>/dev/null || echo unknown)
VPCD_VER=$(dpkg-query -W -f='${Version}' vsmartcard-vpcd 2>/dev/null || echo unknown)
CPU_NS=$(echo "$CPU_OUT" | awk '$1 == "cpu-ns-per-signature" { print $2 }')
CPU_APDUS=$(echo "$CPU_OUT" | awk '$1 == "apdus-per-signature" { print $2 }')

mkdir -p "$(dirname "$REPORT")"
{
cat <<EOF
# Performance benchmark: mynacard against OpenSC

Written by \`tests/bench/run-bench.sh\` on $(date -u +%Y-%m-%d) (UTC); do not
edit by hand.  Every figure below was measured by the command given with
it; run it again with

    sudo bash tests/bench/run-bench.sh $( [ "$BUILD" = "$SRC/build" ] || echo "$BUILD")

## What was measured

- **Ours**: \`module/mynacard-pkcs11.so\` (both tokens), mynacard $COMMIT$DIRTY_NOTE,
  build directory \`$(shown "$BUILD")\`.
- **OpenSC**: \`$OPENSC\`, Debian package opensc $OPENSC_VER, with its own JPKI
  driver ("JPKI (User Authentication PIN)", "JPKI (Digital Signature PIN)").
- **The card**: one virtual My Number Card (\`mynacard-emu run\`) in
  vsmartcard's vpcd reader ($VPCD_VER) of a private pcscd $PCSCD_VER
  (tests/system/lib.sh), the same card for both modules in the same run,
  the modules taking turns, $REPS runs of each scenario for each module,
  on the card profile \`classic\` (the only one OpenSC 0.23 works on).
  Before each run the card is reset (\`opensc-tool --reset cold\`), so
  that no run inherits a verified PIN or a selection from the one before.
  Then our module alone on the profiles $PROFILES (see "Our module on
  each card profile" below).
  APDUs and bytes are counted by the card itself (\`mynacard-emu run
  --stats-file\`: commands in, answers with their status word out),
  just before and just after the measured part of a scenario.
- **The machine**: $CPU_MODEL, $(nproc) cores shared with other work, $(uname -sr).
  Wall times are the median of $REPS runs (min–max in brackets); they
  include pcscd, vpcd's TCP hop and the latency model below.

## The latency model of the virtual card

The virtual card sleeps, holding the line, for each APDU
\`--latency-apdu-us $LAT_APDU\` + \`--latency-byte-us $LAT_BYTE\` × (bytes of the
command + bytes of the answer), and \`--latency-sign-us $LAT_SIGN\` more for each
COMPUTE DIGITAL SIGNATURE.  Where the numbers come from:

- **Per byte, $LAT_BYTE µs: derived from the card's ATR.**  One ATR seen on real
  My Number Cards (doc/jpki-card.md), \`3B DA 13 FF 81 31 FB 46 ...\`,
  has TA1 = 13: Fi = 372, Di = 4 (ISO/IEC 7816-3), so one etu is 93 clock
  cycles; at a 4 MHz card clock (an assumption: CCID readers commonly
  clock cards at 4 to 4.8 MHz) that is 23.25 µs, and a T=1 character takes
  at least 11 etu: 256 µs per byte, rounded to 260.  The other two
  contact ATRs seen (\`3B E0 00 FF ...\`, \`3B C5 FF ...\`) carry no TA1, so the
  card talks at the default Fi = 372, Di = 1: four times slower, about
  1 ms per byte.  The model takes the faster card; the slower one would
  only widen the gaps below, which are dominated by bytes read.
- **Per APDU, $LAT_APDU µs: an assumption.**  The T=1 block frame (prologue,
  epilogue, the card's block waiting), the reader's USB CCID round trip
  (bulk transfers in 1 ms USB frames) and the card's command processing.
  No published measurement of a My Number Card was found; a few ms per
  APDU is the usual order for contact readers.
- **Per signature, $LAT_SIGN µs: an assumption within a published range.**  RSA-2048
  with a card's crypto coprocessor takes 50–200 ms
  (https://smartcardfyi.com/id/glossary/rsa); no published timing of the
  My Number Card's COMPUTE DIGITAL SIGNATURE was found.

The search for published timings of JPKI or My Number Card APDUs found
descriptions of the commands (e.g. https://tex2e.github.io/blog/protocol/jpki-mynumbercard-with-apdu)
but no timings.  Both modules meet the same model, so the ratios depend on it
only through the balance between APDU count, bytes and signatures.

## Results

Scenario definitions: \`tests/bench/bench-p11.c\` (its head comment).
Each table: median [min–max] over $REPS runs; the APDU and byte counts were
the same in every run unless a range is shown.

EOF
for sc in $SCENARIOS; do
    echo "### $(title_of "$sc")"
    echo
    echo "Command: \`$(BENCH=$(shown "$BENCH") bench_cmd "$sc" MODULE)\` (MODULE: ours or OpenSC's)"
    echo
    echo "| | ours | OpenSC | ours / OpenSC |"
    echo "|---|---:|---:|---:|"
    for metric in apdus bytes_in bytes_out wall_us; do
        read -r om omin omax <<<"$(stat ours "$sc" "$metric")"
        read -r cm cmin cmax <<<"$(stat opensc "$sc" "$metric")"
        case $metric in
        apdus) label="APDUs sent" ;;
        bytes_in) label="bytes to the card" ;;
        bytes_out) label="bytes from the card" ;;
        wall_us) label="wall time, ms" ;;
        esac
        if [ "$metric" = wall_us ]; then
            ov="$(ms "$om") [$(ms "$omin")–$(ms "$omax")]"
            cv="$(ms "$cm") [$(ms "$cmin")–$(ms "$cmax")]"
        else
            ov=$om; [ "$omin" = "$omax" ] || ov="$om [$omin–$omax]"
            cv=$cm; [ "$cmin" = "$cmax" ] || cv="$cm [$cmin–$cmax]"
        fi
        echo "| $label | $ov | $cv | $(ratio "$om" "$cm") |"
    done
    eo=$(errors_of ours "$sc")
    ec=$(errors_of opensc "$sc")
    echo "| failed calls (all runs) | $eo | $ec | |"
    ro=$(refused_of ours "$sc")
    rc=$(refused_of opensc "$sc")
    [ "$ro$rc" = 00 ] ||
        echo "| attribute length queries answered with an error (all runs) | $ro | $rc | |"
    echo
done

if [ -n "$PROFILES" ]; then
    echo "## Our module on each card profile"
    echo
    echo "The same scenarios, our module alone, on each profile of the virtual"
    echo "card (README, \"The virtual card\"; doc/jpki-card.md): \`classic\` is the"
    echo "run above.  On the others a program that stays holds the card (as a"
    echo "browser would), and each run starts after a warm reset"
    echo "(\`pcsc-raw READER --reset\`) and one answered command: on those cards a"
    echo "warm reset keeps verified PINs, and the first command after power comes"
    echo "back is answered 6F00, which costs the first program after a power cycle"
    echo "(another program's logout, or pcscd powering an idle card down) one more"
    echo "APDU.  \`contactless\` is read through a reader that carries short APDUs"
    echo "only, which is all the module sends.  Median [min–max] over $REPS runs."
    echo
    hdr="| scenario | classic |"
    sep="|---|---:|"
    for profile in $PROFILES; do
        hdr="$hdr $profile |"
        sep="$sep---:|"
    done
    for metric in apdus bytes_out wall_us; do
        case $metric in
        apdus) echo "APDUs sent:" ;;
        bytes_out) echo "Bytes from the card:" ;;
        wall_us) echo "Wall time, ms:" ;;
        esac
        echo
        echo "$hdr"
        echo "$sep"
        for sc in $SCENARIOS; do
            row="| $(title_of "$sc" | sed 's/ (.*//') |"
            for who in ours $(for p in $PROFILES; do echo "ours-$p"; done); do
                read -r m mn mx <<<"$(stat "$who" "$sc" "$metric")"
                if [ "$metric" = wall_us ]; then
                    v="$(ms "$m") [$(ms "$mn")–$(ms "$mx")]"
                else
                    v=$m; [ "$mn" = "$mx" ] || v="$m [$mn–$mx]"
                fi
                e=$(errors_of "$who" "$sc")
                [ "$e" = 0 ] || v="$v ($e failed)"
                row="$row $v |"
            done
            echo "$row"
        done
        echo
    done
fi

echo "What bench-p11 reported on its standard error, all runs (object handles"
echo "differ between modules; count, then message):"
echo
for who in ours opensc; do
    echo "- $who:"
    if [ -s "$SYS_WORK/bench-$who.err" ]; then
        echo
        echo '```'
        sed -e 's/ of object [0-9]*:/:/' \
            -e 's/attribute 0x120:/attribute 0x120 (CKA_MODULUS):/' \
            -e 's/attribute 0x122:/attribute 0x122 (CKA_PUBLIC_EXPONENT):/' \
            -e 's/: 0x5$/: 0x5 (CKR_GENERAL_ERROR)/' \
            "$SYS_WORK/bench-$who.err" | sort | uniq -c
        echo '```'
    else
        echo "  nothing."
    fi
done
echo

cat <<EOF
## The module's own CPU time for a warm signature

In process, card excluded: \`tests/bench/bench-cpu.c\`, the module's static
library over the callback transport, above a card that replays recorded
answers to the warm signature's commands (so neither SoftHSM's RSA nor the
virtual card's code is timed).  CLOCK_PROCESS_CPUTIME_ID over $CPU_ITERS
warm CKM_RSA_PKCS signatures (C_SignInit + C_Sign).

Command: \`$(shown "$BENCH_CPU") --card CARD --iterations $CPU_ITERS\` (CARD made by \`mynacard-emu init\`)

\`\`\`
$CPU_OUT
\`\`\`

EOF
if [ -n "$CG_IR" ]; then
cat <<EOF
Instructions (repeatable): \`valgrind --tool=callgrind --toggle-collect=measured_loop $(shown "$BENCH_CPU") --card CARD --iterations $CG_ITERS\`:
$CG_IR instructions in the loop, $(awk -v t="$CG_IR" -v n="$CG_ITERS" 'BEGIN { printf "%.0f", t / n }') per warm signature.

EOF
fi

# ---- Targets ----
read -r p5 _ _ <<<"$(stat ours poll apdus)"
read -r w4 _ _ <<<"$(stat ours warm apdus)"
verdict() { if [ "$1" = 1 ]; then echo "met"; else echo "**not met**"; fi; }
echo "## Targets of issue 6"
echo
echo "| target | measured | |"
echo "|---|---|---|"
echo "| scenario 5 costs no APDU | $p5 APDUs | $(verdict "$([ "$p5" = 0 ] && echo 1)") |"
echo "| scenario 4 at most 2 APDUs | $w4 APDUs per signature | $(verdict "$(awk -v a="$w4" 'BEGIN { print (a <= 2) }')") |"
for sc in startup tls pdf; do
    read -r oa _ _ <<<"$(stat ours "$sc" apdus)"
    read -r ca _ _ <<<"$(stat opensc "$sc" apdus)"
    read -r ow _ _ <<<"$(stat ours "$sc" wall_us)"
    read -r cw _ _ <<<"$(stat opensc "$sc" wall_us)"
    echo "| $sc: at most half of OpenSC's APDUs | $oa vs $ca ($(ratio "$oa" "$ca")) | $(verdict "$(awk -v a="$oa" -v b="$ca" 'BEGIN { print (2 * a <= b) }')") |"
    echo "| $sc: faster than OpenSC | $(ms "$ow") ms vs $(ms "$cw") ms ($(ratio "$ow" "$cw")) | $(verdict "$(awk -v a="$ow" -v b="$cw" 'BEGIN { print (a < b) }')") |"
done
echo "| warm signature under 100 µs of module CPU | ${CPU_NS:-?} ns | $(verdict "$(awk -v a="${CPU_NS:-999999999}" 'BEGIN { print (a < 100000) }')") |"
echo
echo "Raw results, one line per run in the order they ran: the module, the run,"
echo "bench-p11's exit status, then the line bench-p11 printed (totals of the"
echo "measured part; per: how many signatures it held):"
echo
echo '```'
cat "$RESULTS"
echo '```'
} >"$REPORT"

sys_log "report written to $REPORT"
sys_ok "every scenario ran without a failed call for our module" \
    test "$(awk '/who=ours/ && (/rc=[1-9]/ || / errors=[1-9]/)' "$RESULTS" | wc -l)" = 0
sys_ok "bench-cpu ran" test "$CPU_RC" = 0
sys_done
