#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The mynacard authors
#
# mynacard-tool setup mynaportal [--remove] [--system] [--allow-unsigned]
# and doctor's checks of it, against a home of the test's own: the native
# messaging host manifests read back with python's json (name, type stdio,
# an absolute path to an executable mynacard-mpa, exactly our extension's
# id, mode 0644), Firefox profiles (one relative, one absolute, one with a
# user.js of its own) that get the .xpi and the two preferences only with
# --allow-unsigned, --remove giving back the home exactly as it was (file
# list and contents), files it did not write left alone, and --system
# with tmp directories bind-mounted over /usr/lib/mozilla, /etc/chromium
# and /etc/opt inside the test's private mount namespace (lib.sh), so the
# machine's own directories are never touched.  The host program and the
# extension are stand-ins made here (MYNACARD_MPA, MYNACARD_EXTENSION_DIR,
# MYNACARD_EXTENSION_XPI): nothing of them is run, only their paths and
# bytes matter; at the end, a real Firefox ESR (when installed) shows that
# it enables the extension installed with --allow-unsigned.  No pcscd and
# no card: doctor's card checks fail here and only its "mynaportal"
# findings are looked at.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/tool-lib.sh"

tool_need
sys_setup
# doctor looks for pcscd: an empty /run/pcscd of our own, so that it never
# reaches the machine's.
mkdir -p /run/pcscd
mount -t tmpfs -o mode=0755 tmpfs /run/pcscd || sys_skip "cannot mount a tmpfs on /run/pcscd"
unset XDG_CONFIG_HOME

GECKO=mynaportal@mynacard.org
ORIGIN=chrome-extension://iblcbagoigccfdmjdapagpgincgbbcki/
NMH=mynacard.mynaportal.json
FFM="$HOME/.mozilla/native-messaging-hosts/$NMH"
CRM="$HOME/.config/chromium/NativeMessagingHosts/$NMH"
GCM="$HOME/.config/google-chrome/NativeMessagingHosts/$NMH"

# The stand-ins for the installed host program and extension.
export MYNACARD_MPA="$SYS_WORK/inst/bin/mynacard-mpa"
export MYNACARD_EXTENSION_DIR="$SYS_WORK/inst/share/mynacard/extension"
export MYNACARD_EXTENSION_XPI="$SYS_WORK/inst/share/mynacard/mynacard-mynaportal.xpi"
mkdir -p "$(dirname "$MYNACARD_MPA")" "$MYNACARD_EXTENSION_DIR"
printf '#!/bin/sh\nexit 0\n' >"$MYNACARD_MPA"
chmod 0755 "$MYNACARD_MPA"
printf '{"manifest_version": 3, "name": "stand-in"}\n' >"$MYNACARD_EXTENSION_DIR/manifest.json"
python3 - "$MYNACARD_EXTENSION_XPI" <<'EOF' || sys_fail "making the .xpi"
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w") as z:
    z.writestr("manifest.json", '{"manifest_version": 3, "name": "stand-in"}\n')
    z.writestr("background.js", "// " + "x" * 5000 + "\n")
EOF

# Two Firefox profiles, as in test-tool-setup.sh; the first has a user.js
# of the user's own, without a final newline.
tool_ff_profiles
printf 'user_pref("browser.startup.page", 3);\n// mine\nuser_pref("xpinstall.signatures.required", true);' >"$P1/user.js"
cp "$P1/user.js" "$SYS_WORK/user.js.orig"

# home_state: every file under $HOME with its mode and contents' hash.
home_state() {
    (cd "$HOME" && find . -type f -printf '%p %m\n' | sort | while read -r f m; do
        echo "$f $m $(md5sum <"$f" | cut -c1-32)"
    done)
    (cd "$P2" && find . -type f -printf 'P2 %p %m\n' | sort)
}
home_state >"$SYS_WORK/home.before"
same_home() {
    home_state >"$SYS_WORK/home.now"
    diff "$SYS_WORK/home.before" "$SYS_WORK/home.now" | sed 's/^/#   /'
    cmp -s "$SYS_WORK/home.before" "$SYS_WORK/home.now"
}
no_manifest_anywhere() {
    [ -z "$(find "$HOME" -name "$NMH")" ]
}

# manifest_ok FILE gecko|chromium: the host manifest as a browser reads it.
manifest_ok() {
    python3 - "$1" "$2" "$MYNACARD_MPA" "$GECKO" "$ORIGIN" <<'EOF'
import json, os, stat, sys
f, kind, mpa, gecko, origin = sys.argv[1:]
d = json.load(open(f))
problems = []
if d.get("name") != "mynacard.mynaportal": problems.append("name")
if d.get("type") != "stdio": problems.append("type")
p = d.get("path", "")
if not (os.path.isabs(p) and p == mpa and os.access(p, os.X_OK)): problems.append("path " + p)
if not isinstance(d.get("description"), str): problems.append("description")
if kind == "gecko":
    if d.get("allowed_extensions") != [gecko] or "allowed_origins" in d: problems.append("ids")
else:
    if d.get("allowed_origins") != [origin] or "allowed_extensions" in d: problems.append("ids")
mode = stat.S_IMODE(os.stat(f).st_mode)
if mode != 0o644: problems.append("mode %o" % mode)
print("#   %s: %s" % (f, ", ".join(problems) or "right"))
sys.exit(1 if problems else 0)
EOF
}

# doc NAME: doctor --json into NAME; mp NAME STATUS TEXT: one of its
# "mynaportal" findings has STATUS and a message containing TEXT (and,
# unless ok, a fix naming setup mynaportal or the reinstall).
doc() {
    t "$1" doctor --json >/dev/null
    python3 - "$SYS_WORK/$1.out" <<'EOF'
import json, sys
for c in json.load(open(sys.argv[1]))["checks"]:
    if c["check"] == "mynaportal":
        print("#   [%s] %s" % (c["status"], c["message"]))
EOF
}
mp() {
    python3 - "$SYS_WORK/$1.out" "$2" "$3" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
st, text = sys.argv[2], sys.argv[3]
hits = [c for c in d["checks"] if c["check"] == "mynaportal"
        and c["status"] == st and text in c["message"]
        and (st == "ok" or "setup mynaportal" in (c["fix"] or "")
             or "reinstall" in (c["fix"] or ""))]
sys.exit(0 if hits else 1)
EOF
}
# mp_none NAME STATUS...: no "mynaportal" finding has any of STATUS.
mp_none() {
    python3 - "$SYS_WORK/$1.out" "${@:2}" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
bad = [c for c in d["checks"] if c["check"] == "mynaportal" and c["status"] in sys.argv[2:]]
sys.exit(1 if bad else 0)
EOF
}

# ---- refusals: nothing is written ----
MYNACARD_MPA="$SYS_WORK/nothing/mynacard-mpa" t no-mpa setup mynaportal
sys_ok "host program missing: exit 1, saying so, nothing written" \
    eval 'rc_is no-mpa 1 && err_has no-mpa "is missing" && same_home'
chmod 0644 "$MYNACARD_MPA"
t mpa-noexec setup mynaportal
sys_ok "host program not executable: exit 1, saying so, nothing written" \
    eval 'rc_is mpa-noexec 1 && err_has mpa-noexec "not executable" && same_home'
chmod 0755 "$MYNACARD_MPA"
MYNACARD_MPA="inst/bin/mynacard-mpa" t mpa-rel setup mynaportal
sys_ok "host program given as a relative path: exit 1, nothing written" \
    eval 'rc_is mpa-rel 1 && err_has mpa-rel "not an absolute path" && same_home'
MYNACARD_EXTENSION_DIR="$SYS_WORK/nothing" t no-ext setup mynaportal
sys_ok "extension missing: exit 1, saying so, nothing written" \
    eval 'rc_is no-ext 1 && err_has no-ext "extension is missing" && same_home'
t sys-unsigned setup mynaportal --system --allow-unsigned
t ff-system setup firefox --system
sys_ok "--system with --allow-unsigned, and --system for another target: exit 2" \
    eval 'rc_is sys-unsigned 2 && rc_is ff-system 2 && same_home'

# ---- doctor before setup: notes only ----
doc doc-none
sys_ok "doctor, nothing set up: each manifest reported missing, as a note with the fix" \
    eval 'mp doc-none note "firefox: no native messaging host manifest" &&
          mp doc-none note "chromium: no native messaging host manifest" &&
          mp_none doc-none warn fail'

# ---- per user, without --allow-unsigned ----
t setup setup mynaportal
sys_ok "setup mynaportal: exit 0" rc_is setup 0
sys_ok "  Firefox's manifest: name, stdio, path, allowed_extensions [$GECKO], 0644" \
    manifest_ok "$FFM" gecko
sys_ok "  Chromium's manifest: allowed_origins [$ORIGIN], 0644" manifest_ok "$CRM" chromium
sys_ok "  no Chrome manifest (no ~/.config/google-chrome)" eval '[ ! -e "$GCM" ] && [ ! -e "$HOME/.config/google-chrome" ]'
sys_ok "  no profile touched: no .xpi, user.js as it was, none created" \
    eval '[ -z "$(find "$P1" "$P2" -name "*.xpi")" ] && cmp -s "$P1/user.js" "$SYS_WORK/user.js.orig" && [ ! -e "$P2/user.js" ]'
sys_ok "  says how to load it in Firefox (about:debugging, temporary) and why (signing)" \
    eval 'has setup "about:debugging" && has setup "一時的なアドオンを読み込む" &&
          has setup "$MYNACARD_EXTENSION_XPI" && has setup "xpinstall.signatures.required = false" &&
          has setup "addons.mozilla.org" && has setup "--allow-unsigned"'
sys_ok "  and in Chromium (developer mode, Load unpacked, the directory) and why" \
    eval 'has setup "chrome://extensions" && has setup "Developer mode" && has setup "Load unpacked" &&
          has setup "$MYNACARD_EXTENSION_DIR" && has setup "Chrome Web Store"'
t setup-json setup mynaportal --json
sys_ok "  again, --json: exit 0, both manifests already there, the steps listed" \
    eval 'rc_is setup-json 0 && json_ok setup-json &&
          jq_is setup-json "[(m[\"browser\"], m[\"state\"], m[\"ok\"]) for m in d[\"manifests\"]]" \
              "[('"'"'firefox'"'"', '"'"'already'"'"', True), ('"'"'chromium'"'"', '"'"'already'"'"', True)]" &&
          jq_is setup-json "(d[\"target\"], d[\"host\"], d[\"system\"], [s[\"browser\"] for s in d[\"steps\"]])" \
              "('"'"'mynaportal'"'"', '"'"'$MYNACARD_MPA'"'"', False, ['"'"'firefox'"'"', '"'"'chromium'"'"'])"'

mkdir -p "$HOME/.config/google-chrome"
t setup-chrome setup mynaportal
sys_ok "with ~/.config/google-chrome: Chrome's manifest too, allowed_origins [$ORIGIN]" \
    eval 'rc_is setup-chrome 0 && manifest_ok "$GCM" chromium'

doc doc-set
sys_ok "doctor after setup: the three manifests and the extension's files ok, no warning" \
    eval 'mp doc-set ok "firefox: the host manifest" && mp doc-set ok "chromium: the host manifest" &&
          mp doc-set ok "chrome: the host manifest" && mp doc-set ok "the extension is in" &&
          mp doc-set ok "package of the extension is" && mp_none doc-set warn fail'
sys_ok "  and notes that no profile has the extension installed" \
    mp doc-set note "the extension is not installed in it"

# ---- doctor finds each missing or wrong piece ----
chmod 0644 "$MYNACARD_MPA"
doc doc-noexec
sys_ok "doctor: the host program not executable: a warning with the fix" \
    mp doc-noexec warn "which is not executable"
chmod 0755 "$MYNACARD_MPA"
python3 - "$FFM" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
d["allowed_extensions"] = ["evil@example.org", "mynaportal@mynacard.org"]
json.dump(d, open(sys.argv[1], "w"))
EOF
doc doc-ids
sys_ok "doctor: Firefox's manifest allowing another extension too: a warning" \
    mp doc-ids warn "firefox: $FFM does not allow exactly"
t fix-ids setup mynaportal --json
sys_ok "  setup mynaportal rewrites it (state written), right again" \
    eval 'rc_is fix-ids 0 && jq_is fix-ids "d[\"manifests\"][0][\"state\"]" written && manifest_ok "$FFM" gecko'
python3 - "$CRM" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
d["path"] = "mynacard-mpa"
json.dump(d, open(sys.argv[1], "w"))
EOF
doc doc-relpath
sys_ok "doctor: Chromium's manifest with a relative path: a warning" \
    mp doc-relpath warn "chromium: $CRM: \"path\" is not the absolute path"
rm -f "$CRM"
doc doc-nocr
sys_ok "doctor: Chromium's manifest gone while Firefox's is there: a warning now" \
    mp doc-nocr warn "chromium: no native messaging host manifest"
echo '{"name": "mynacard.mynaportal", "type": "stdio",' >"$GCM"
doc doc-broken
sys_ok "doctor: Chrome's manifest not JSON: a warning" \
    mp doc-broken warn "chrome: $GCM is not mynacard's host manifest (not a JSON object"
t broken-setup setup mynaportal
sys_ok "  setup leaves it alone (exit 1), as the fix says: it is to be moved away" \
    eval 'rc_is broken-setup 1 && grep -q "^{\"name\": \"mynacard.mynaportal\", \"type\": \"stdio\",\$" "$GCM"'
rm -f "$GCM"
mv "$MYNACARD_EXTENSION_DIR/manifest.json" "$SYS_WORK/ext-manifest"
mv "$MYNACARD_EXTENSION_XPI" "$SYS_WORK/ext-xpi"
doc doc-noext
sys_ok "doctor: the extension's directory and .xpi missing: a warning each" \
    eval 'mp doc-noext warn "the extension is missing" && mp doc-noext warn "package of the extension is missing"'
mv "$SYS_WORK/ext-manifest" "$MYNACARD_EXTENSION_DIR/manifest.json"
mv "$SYS_WORK/ext-xpi" "$MYNACARD_EXTENSION_XPI"
t fix-all setup mynaportal
doc doc-fixed
sys_ok "setup mynaportal again: doctor has no warning left" \
    eval 'rc_is fix-all 0 && manifest_ok "$CRM" chromium && manifest_ok "$GCM" chromium && mp_none doc-fixed warn fail'

# ---- a manifest that is not ours is left alone ----
cp "$FFM" "$SYS_WORK/ffm.ours"
echo '{"name": "someone.else", "type": "stdio", "path": "/bin/true", "allowed_extensions": ["x@y"]}' >"$FFM"
sum=$(md5sum <"$FFM")
t foreign setup mynaportal
t foreign-rm setup mynaportal --remove
sys_ok "a $NMH naming another host: setup refuses it (exit 1), --remove leaves it" \
    eval 'rc_is foreign 1 && err_has foreign "not mynacard'"'"'s" && rc_is foreign-rm 0 &&
          [ "$(md5sum <"$FFM")" = "$sum" ]'
rm -f "$FFM"

# ---- --allow-unsigned: the Firefox profiles ----
t setup2 setup mynaportal
sleep 600 &
LIVE=$!
sys_track "$LIVE"
ln -s "127.0.1.1:+$LIVE" "$P1/lock"
t unsigned-busy setup mynaportal --allow-unsigned
sys_ok "--allow-unsigned while Firefox runs on a profile: exit 9, no profile changed" \
    eval 'rc_is setup2 0 && rc_is unsigned-busy 9 && err_has unsigned-busy "please close it" &&
          [ -z "$(find "$P1" "$P2" -name "*.xpi")" ] && cmp -s "$P1/user.js" "$SYS_WORK/user.js.orig" &&
          [ ! -e "$P2/user.js" ]'
sys_kill "$LIVE"
sys_untrack "$LIVE"
rm -f "$P1/lock"

# prefs_in FILE: the two preferences, each once, after the user's lines.
prefs_in() {
    [ "$(grep -cx 'user_pref("xpinstall.signatures.required", false);' "$1")" = 1 ] &&
        [ "$(grep -cx 'user_pref("extensions.autoDisableScopes", 0);' "$1")" = 1 ] &&
        [ "$(tail -n 1 "$1")" = 'user_pref("extensions.autoDisableScopes", 0);' ]
}
t unsigned setup mynaportal --allow-unsigned --json
sys_ok "setup mynaportal --allow-unsigned: exit 0, both profiles ok" \
    eval 'rc_is unsigned 0 && jq_is unsigned "[p[\"ok\"] for p in d[\"profiles\"]]" "[True, True]"'
sys_ok "  each profile has extensions/$GECKO.xpi, the same bytes as the package" \
    eval 'cmp "$MYNACARD_EXTENSION_XPI" "$P1/extensions/$GECKO.xpi" && cmp "$MYNACARD_EXTENSION_XPI" "$P2/extensions/$GECKO.xpi"'
sys_ok "  user.js: the user's lines kept, the two preferences added last" \
    eval 'head -c "$(stat -c %s "$SYS_WORK/user.js.orig")" "$P1/user.js" | cmp -s - "$SYS_WORK/user.js.orig" &&
          prefs_in "$P1/user.js" && prefs_in "$P2/user.js"'
sys_ok "  and the manifests are still right" eval 'manifest_ok "$FFM" gecko && manifest_ok "$CRM" chromium'
sys_ok "  says to restart Firefox" has unsigned "restart Firefox"
t unsigned-again setup mynaportal --allow-unsigned
sys_ok "  again: exit 0, the preferences still once" \
    eval 'rc_is unsigned-again 0 && prefs_in "$P1/user.js" && prefs_in "$P2/user.js"'
doc doc-unsigned
sys_ok "doctor: the extension installed in both profiles, no warning" \
    eval '[ "$(python3 -c "import json,sys; print(sum(1 for c in json.load(open(sys.argv[1]))[\"checks\"] if c[\"check\"] == \"mynaportal\" and c[\"status\"] == \"ok\" and \"the extension is installed\" in c[\"message\"]))" "$SYS_WORK/doc-unsigned.out")" = 2 ] &&
          mp_none doc-unsigned warn fail'
rm -f "$P2/extensions/$GECKO.xpi"
doc doc-noxpi
sys_ok "doctor: a profile's copy gone: a warning naming --allow-unsigned" \
    eval 'mp doc-noxpi warn "its copy $P2/extensions/$GECKO.xpi is missing" &&
          python3 -c "import json,sys; sys.exit(0 if any(\"--allow-unsigned\" in (c[\"fix\"] or \"\") for c in json.load(open(sys.argv[1]))[\"checks\"] if c[\"status\"] == \"warn\") else 1)" "$SYS_WORK/doc-noxpi.out"'
t unsigned-fix setup mynaportal --allow-unsigned
sys_ok "  setup --allow-unsigned puts it back" \
    eval 'rc_is unsigned-fix 0 && cmp -s "$MYNACARD_EXTENSION_XPI" "$P2/extensions/$GECKO.xpi"'

# ---- --remove: the home as it was ----
ln -s "127.0.1.1:+$$" "$P2/lock"
t remove-busy setup mynaportal --remove
sys_ok "--remove while Firefox runs on a profile it changed: exit 9, nothing removed" \
    eval 'rc_is remove-busy 9 && [ -e "$FFM" ] && [ -e "$P1/extensions/$GECKO.xpi" ] && prefs_in "$P1/user.js"'
rm -f "$P2/lock"
t remove setup mynaportal --remove --json
sys_ok "setup mynaportal --remove: exit 0, every manifest removed" \
    eval 'rc_is remove 0 && jq_is remove "sorted(m[\"state\"] for m in d[\"manifests\"])" "['"'"'removed'"'"', '"'"'removed'"'"', '"'"'removed'"'"']" &&
          no_manifest_anywhere'
sys_ok "  user.js exactly as before (the user's own line for the same preference kept)" \
    cmp "$P1/user.js" "$SYS_WORK/user.js.orig"
sys_ok "  the home's files exactly as before setup (no .xpi, no user.js left in profile 2)" same_home
t remove-again setup mynaportal --remove
sys_ok "  again: exit 0, nothing to do" eval 'rc_is remove-again 0 && same_home'
mkdir -p "$P1/extensions"
cp "$MYNACARD_EXTENSION_XPI" "$P1/extensions/$GECKO.xpi"
t remove-handmade setup mynaportal --remove
sys_ok "an .xpi it did not put there (no user.js lines of its own) is left alone" \
    eval 'rc_is remove-handmade 0 && [ -e "$P1/extensions/$GECKO.xpi" ]'
rm -rf "$P1/extensions"
doc doc-removed
sys_ok "doctor after --remove: notes again, no warning" \
    eval 'mp doc-removed note "firefox: no native messaging host manifest" && mp_none doc-removed warn fail'

# ---- --system, over directories of the test's own ----
SYSOK=1
for d in /usr/lib/mozilla /etc/chromium /etc/opt; do
    if [ ! -d "$d" ]; then
        sys_log "$d does not exist here: --system is not tried"
        SYSOK=0
    fi
done
if [ "$SYSOK" = 1 ]; then
    for d in mozilla chromium opt; do
        mkdir -p "$SYS_WORK/sys/$d"
    done
    mount --bind "$SYS_WORK/sys/mozilla" /usr/lib/mozilla &&
        mount --bind "$SYS_WORK/sys/chromium" /etc/chromium &&
        mount --bind "$SYS_WORK/sys/opt" /etc/opt || sys_fail "bind mounts over the system directories"
    SFM=/usr/lib/mozilla/native-messaging-hosts/$NMH
    SCR=/etc/chromium/native-messaging-hosts/$NMH
    SGC=/etc/opt/chrome/native-messaging-hosts/$NMH
    # Chrome not installed: /opt/google/chrome is the machine's, so it
    # decides; /etc/opt/chrome is ours.
    # A umask that would hide the files from other users.
    ( umask 077; "$MYNACARD_TOOL" setup mynaportal --system >"$SYS_WORK/sys-setup.out" 2>"$SYS_WORK/sys-setup.err"; echo $? >"$SYS_WORK/sys-setup.rc" )
    sed 's/^/#   | /' "$SYS_WORK/sys-setup.out" | head -n 4
    sys_ok "setup mynaportal --system (umask 077): exit 0, Firefox's and Chromium's manifests, 0644" \
        eval 'rc_is sys-setup 0 && manifest_ok "$SFM" gecko && manifest_ok "$SCR" chromium'
    sys_ok "  their directories readable by all (0755)" \
        eval '[ "$(stat -c %a "$(dirname "$SFM")")" = 755 ] && [ "$(stat -c %a "$(dirname "$SCR")")" = 755 ]'
    if [ -d /opt/google/chrome ]; then
        sys_log "Google Chrome is installed here: its manifest is expected too"
        sys_ok "  Chrome's too (Chrome is installed)" manifest_ok "$SGC" chromium
    else
        sys_ok "  no Chrome manifest (no Chrome)" eval '[ ! -e "$SGC" ]'
    fi
    sys_ok "  nothing in the home" eval 'no_manifest_anywhere && same_home'
    mkdir -p /etc/opt/chrome
    t sys-chrome setup mynaportal --system
    sys_ok "with /etc/opt/chrome: Chrome's manifest too" \
        eval 'rc_is sys-chrome 0 && manifest_ok "$SGC" chromium'
    doc doc-sys
    sys_ok "doctor: the system's manifests found for each browser, no warning" \
        eval 'mp doc-sys ok "firefox: the host manifest $SFM" && mp doc-sys ok "chromium: the host manifest $SCR" &&
              mp doc-sys ok "chrome: the host manifest $SGC" && mp_none doc-sys warn fail'
    if command -v setpriv >/dev/null; then
        # A copy the unprivileged user can reach (the work directory is
        # private), in a directory of its own removed right after.
        NB=$(mktemp -d /tmp/test-tool-mynaportal.XXXXXX) || sys_fail mktemp
        cp "$MYNACARD_TOOL" "$NB/mynacard-tool"
        chmod 0755 "$NB" "$NB/mynacard-tool"
        setpriv --reuid=65534 --regid=65534 --clear-groups \
            env HOME=/nonexistent "$NB/mynacard-tool" setup mynaportal --system \
            >"$SYS_WORK/sys-user.out" 2>"$SYS_WORK/sys-user.err"
        echo $? >"$SYS_WORK/sys-user.rc"
        rm -rf "$NB"
        sed 's/^/#   ! /' "$SYS_WORK/sys-user.err"
        sys_ok "--system as an ordinary user: exit 1, saying it needs root" \
            eval 'rc_is sys-user 1 && err_has sys-user "as root"'
    fi
    t sys-rm setup mynaportal --system --remove
    sys_ok "setup mynaportal --system --remove: exit 0, the three manifests and their directories gone" \
        eval 'rc_is sys-rm 0 && [ ! -e "$SFM" ] && [ ! -e "$SCR" ] && [ ! -e "$SGC" ] &&
              [ ! -e "$(dirname "$SFM")" ] && [ ! -e "$(dirname "$SCR")" ] && [ ! -e "$(dirname "$SGC")" ]'
fi

# ---- a real Firefox ESR takes the --allow-unsigned installation ----
# In a home of its own (Firefox fills the profile with files of its own),
# with a stand-in extension that has the gecko id: Firefox must list it in
# extensions.json as active, unsigned (signedState 0), from the profile.
FIREFOX=${FIREFOX:-firefox-esr}
if command -v "$FIREFOX" >/dev/null; then
    export HOME="$SYS_WORK/home-ff"
    FP="$HOME/.mozilla/firefox/real.default-esr"
    mkdir -p "$FP"
    printf '[Profile0]\nName=real\nIsRelative=1\nPath=real.default-esr\nDefault=1\n' \
        >"$HOME/.mozilla/firefox/profiles.ini"
    REALXPI="$SYS_WORK/real.xpi"
    python3 - "$REALXPI" "$GECKO" <<'EOF2' || sys_fail "making the stand-in extension"
import json, sys, zipfile
m = {"manifest_version": 3, "name": "mynacard stand-in", "version": "1.0",
     "browser_specific_settings": {"gecko": {"id": sys.argv[2]}},
     "background": {"scripts": ["bg.js"]}}
with zipfile.ZipFile(sys.argv[1], "w") as z:
    z.writestr("manifest.json", json.dumps(m))
    z.writestr("bg.js", "// nothing\n")
EOF2
    MYNACARD_EXTENSION_XPI="$REALXPI" t real-unsigned setup mynaportal --allow-unsigned
    # Firefox itself is not under test: no sanitizer runtime preloaded.
    env -u LD_PRELOAD "$FIREFOX" --headless --no-remote --profile "$FP" about:blank \
        >"$SYS_WORK/firefox-real.log" 2>&1 &
    FFPID=$!
    sys_track "$FFPID"
    # active_in_firefox: extensions.json lists our id, active, unsigned.
    active_in_firefox() {
        python3 - "$FP/extensions.json" "$GECKO" <<'EOF2'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except (OSError, ValueError):
    sys.exit(1)
for a in d.get("addons", []):
    if a.get("id") == sys.argv[2]:
        print("#   %s: active %s, signedState %s, location %s" % (
            a["id"], a.get("active"), a.get("signedState"), a.get("location")))
        sys.exit(0 if a.get("active") and a.get("location") == "app-profile" else 1)
sys.exit(1)
EOF2
    }
    FFSTART=$SECONDS
    for _ in $(seq 120); do
        active_in_firefox >/dev/null && break
        sleep 0.5
    done
    sys_log "waited $((SECONDS - FFSTART)) s for Firefox's extensions.json"
    sys_ok "a real $FIREFOX enables the extension that setup --allow-unsigned put in its profile" \
        eval 'rc_is real-unsigned 0 && active_in_firefox'
    sys_kill "$FFPID"
    sys_untrack "$FFPID"
    for _ in $(seq 100); do [ -L "$FP/lock" ] || break; sleep 0.1; done
    t real-remove setup mynaportal --remove
    sys_ok "  --remove afterwards: the copy and the user.js lines gone" \
        eval 'rc_is real-remove 0 && [ ! -e "$FP/extensions/$GECKO.xpi" ] &&
              ! grep -q "xpinstall.signatures.required" "$FP/user.js" 2>/dev/null'
else
    sys_log "no $FIREFOX: the real-Firefox check is not run"
fi

t help --help
sys_ok "--help lists setup mynaportal and its options" \
    eval 'has help "setup mynaportal [--remove] [--system] [--allow-unsigned]"'

sys_done
