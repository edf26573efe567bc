#!/usr/bin/env bash
# The Debian packages, as a user gets them: CPack builds them from this build
# tree; their file lists and dependencies are checked (the runtime never
# depends on LLVM or ANTLR); lintian runs and fails on any tag that no
# override in the package explains; every man page renders without a groff
# warning (`man -l`); dpkg installs them into a scratch root, where the
# binaries run; `cmake --install` installs the same files.
set -euo pipefail
BUILD=${NETDSL_BUILD:?set NETDSL_BUILD to the build directory}
SRC=${NETDSL_SRCROOT:?set NETDSL_SRCROOT to the source directory}

fail() { echo "FAIL: $*" >&2; exit 1; }
for tool in cpack dpkg-deb dpkg lintian man gzip; do
  command -v "$tool" >/dev/null || fail "\`$tool\` is missing (./bootstrap.sh installs it)"
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
version=$("$BUILD/bin/netdsl" --version | awk '{print $2}')
arch=$(dpkg --print-architecture)

# The packages stay in NETDSL_DEBS for the fleet tests (CTest fixture netdsl_debs).
debs=${NETDSL_DEBS:-$work/debs}
rm -rf "$debs"
cpack --config "$BUILD/CPackConfig.cmake" -B "$debs" >"$work/cpack.log" 2>&1 || { cat "$work/cpack.log"; fail "cpack failed"; }
rm -rf "$debs/_CPack_Packages"
runtime=$debs/netdsl_${version}_${arch}.deb
compiler=$debs/netdslc_${version}_${arch}.deb
ansible=$debs/netdsl-ansible_${version}_all.deb
for deb in "$runtime" "$compiler" "$ansible"; do
  [[ -f $deb ]] || fail "cpack did not write $(basename "$deb"); it wrote: $(cd "$debs" && ls ./*.deb)"
done

# File lists: exactly these regular files (directories aside).
files() { dpkg-deb -c "$1" | awk '$1 !~ /^d/ {print $6}' | sort; }
expect_files() {
  local deb=$1 want=$2 got
  got=$(files "$deb")
  [[ $got == "$want" ]] || fail "$(basename "$deb") holds:
$got
expected:
$want"
}
expect_files "$runtime" "./usr/sbin/netdsl
./usr/share/bash-completion/completions/netdsl
./usr/share/doc/netdsl/changelog.gz
./usr/share/doc/netdsl/copyright
./usr/share/lintian/overrides/netdsl
./usr/share/man/man5/netdsl-linux.yaml.5.gz
./usr/share/man/man8/netdsl.8.gz"
expect_files "$compiler" "./usr/bin/netdslc
./usr/share/bash-completion/completions/netdslc
./usr/share/doc/netdslc/changelog.gz
./usr/share/doc/netdslc/copyright
./usr/share/lintian/overrides/netdslc
./usr/share/man/man1/netdslc.1.gz
./usr/share/man/man5/netdsl.5.gz
./usr/share/man/man5/netdsl.lock.5.gz"
collection=./usr/share/ansible/collections/ansible_collections/netdsl/fabric
got=$(files "$ansible")
for f in galaxy.yml meta/runtime.yml plugins/inventory/netdsl.py plugins/modules/netdsl_apply.py \
         plugins/modules/netdsl_confirm.py playbooks/rollout.yml; do
  grep -qx "$collection/$f" <<<"$got" || fail "netdsl-ansible lacks $collection/$f; it holds:
$got"
done

# Dependencies: the runtime's are exactly what it links (dpkg-shlibdeps), and
# never the compiler's LLVM or ANTLR.
depends=$(dpkg-deb -f "$runtime" Depends)
for lib in libc6 libfmt9 libmnl0 libnftables1 libyaml-cpp0.7 libstdc++6; do
  grep -q "\b$lib\b" <<<"$depends" || fail "netdsl does not depend on $lib: $depends"
done
if grep -qiE 'llvm|antlr|libtinfo' <<<"$depends"; then fail "the runtime depends on the compiler's libraries: $depends"; fi
grep -q 'libantlr4-runtime' <<<"$(dpkg-deb -f "$compiler" Depends)" || fail "netdslc does not depend on the ANTLR runtime"
grep -q 'ansible-core' <<<"$(dpkg-deb -f "$ansible" Depends)" || fail "netdsl-ansible does not depend on ansible-core"

# lintian: errors and warnings fail unless an override in the package explains them.
if ! lintian --fail-on error,warning --display-info --suppress-tags-from-file /dev/null \
       "$runtime" "$compiler" "$ansible" >"$work/lintian.log" 2>&1; then
  cat "$work/lintian.log"
  fail "lintian reports tags no override explains"
fi
# Every override names why (a comment line right above it).
for pkg in "$runtime" "$compiler"; do
  name=$(dpkg-deb -f "$pkg" Package)
  dpkg-deb --fsys-tarfile "$pkg" | tar -xO "./usr/share/lintian/overrides/$name" >"$work/overrides"
  awk -v pkg="$name" '/^[^#]/ && prev !~ /^#/ {print pkg ": override without an explanation: " $0; bad = 1} {prev = $0} END {exit bad}' \
    "$work/overrides" || fail "unexplained lintian override"
done
grep -E '^[IWE]:' "$work/lintian.log" || true

# Install into a scratch root with dpkg itself (its own database; the
# libraries come from this machine, so dependencies are not re-checked;
# --path-include undoes a minimal image's path-exclude of man pages and docs).
root=$work/root
mkdir -p "$root/var/lib/dpkg/updates" "$root/var/lib/dpkg/info"
touch "$root/var/lib/dpkg/status"
dpkg --root="$root" --force-depends --force-not-root --force-script-chrootless --path-include="/usr/share/*" -i "$runtime" "$compiler" "$ansible" \
  >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; fail "dpkg -i into the scratch root failed"; }
dpkg --root="$root" -l netdsl netdslc netdsl-ansible | grep -c '^ii' | grep -qx 3 || fail "dpkg does not list the 3 packages as installed"
[[ $("$root/usr/sbin/netdsl" --version) == "netdsl $version" ]] || fail "the installed netdsl does not run"
[[ $("$root/usr/bin/netdslc" --version) == "netdslc $version" ]] || fail "the installed netdslc does not run"
cp -r "$SRC/examples/two-tenants-vxlan" "$work/ex"
"$root/usr/bin/netdslc" build "$work/ex/fabric.netdsl" -o "$work/ex/out" >/dev/null || fail "the installed netdslc cannot build an example"
"$root/usr/sbin/netdsl" tables verify "$work/ex/out/hosts/node1/tables.ndt" >/dev/null || fail "the installed netdsl cannot read a table image"

# Man pages: each renders without a warning (lintian's own check).
for page in "$root"/usr/share/man/man*/*.gz; do
  warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$page" 2>&1 >/dev/null)
  [[ -z $warnings ]] || fail "$(basename "$page"): $warnings"
  LC_ALL=C.UTF-8 MANWIDTH=80 man -l "$page" >"$work/page.txt" 2>/dev/null || fail "man -l $(basename "$page") failed"
  grep -q '^NAME' "$work/page.txt" || fail "$(basename "$page") has no NAME section"
done
grep -q 'vm_subnet (in vm_network)' <<<"$(LC_ALL=C.UTF-8 MANWIDTH=80 man -l "$root/usr/share/man/man5/netdsl.5.gz" 2>/dev/null)" ||
  fail "netdsl(5) lacks the generated block reference"

# Bash completion, as installed, completes the commands.
for cmd in netdsl netdslc; do
  got=$(bash -c "source '$root/usr/share/bash-completion/completions/$cmd'
                 COMP_WORDS=($cmd ''); COMP_CWORD=1; _$cmd; echo \"\${COMPREPLY[*]}\"")
  grep -q -- '--help' <<<"$got" || fail "completion of \`$cmd\` offers no commands: $got"
done

# cmake --install: the same files as the three packages together.
DESTDIR="$work/inst" cmake --install "$BUILD" --prefix /usr >/dev/null
(cd "$work/inst" && find . -type f | sort) >"$work/installed"
{ files "$runtime"; files "$compiler"; files "$ansible"; } | sort >"$work/packaged"
diff "$work/packaged" "$work/installed" >/dev/null || fail "cmake --install and the packages differ:
$(diff "$work/packaged" "$work/installed")"
echo "PASS: 3 packages, lintian clean, $(ls "$root"/usr/share/man/man*/*.gz | wc -l) man pages render"
