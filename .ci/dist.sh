#!/usr/bin/env bash
# The release files of a commit (`make dist`):
#   OUTDIR/reclock-X.Y.Z.zip        the PGXN release (version from META.json;
#                                   one top directory reclock-X.Y.Z/, as PGXN
#                                   wants)
#   OUTDIR/reclock_X.Y.orig.tar.gz  the same tree as Debian's upstream tarball
#                                   (version from reclock.control's
#                                   default_version; top directory reclock-X.Y/)
# Both are `git archive` of the tracked files: of the working tree's tracked
# files as they are (uncommitted changes included, untracked files never), or
# of COMMIT.  Where git cannot read the repository (a chroot that sees the
# checkout but not the repository of a worktree), files made outside are kept.
#
#   .ci/dist.sh [OUTDIR [COMMIT]]     (default build/dist, the working tree)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-build/dist}
commit=${2:-}

if ! git rev-parse --git-dir >/dev/null 2>&1; then
  if ls "$out"/reclock-*.zip "$out"/reclock_*.orig.tar.gz >/dev/null 2>&1; then
    echo "dist: git cannot read the repository here: keeping the release files in $out (made outside)" >&2
    exit 0
  fi
  echo "dist: git cannot read the repository here, and $out has no release files" >&2
  exit 1
fi

if [ -z "$commit" ]; then
  # the tracked files as they are in the working tree, as a commit object
  # (git stash create touches neither the working tree nor the stash list)
  commit=$(git stash create 2>/dev/null || true)
  [ -z "$commit" ] || echo "dist: the working tree has uncommitted changes: they are in the release files" >&2
  commit=${commit:-HEAD}
fi
extversion=$(git show "$commit:reclock.control" | sed -n "s/^default_version = '\(.*\)'/\1/p")
pgxnversion=$(git show "$commit:META.json" | sed -n 's/^   "version": "\(.*\)",$/\1/p')
[ -n "$extversion" ] || { echo "dist: no default_version in $commit:reclock.control" >&2; exit 1; }
[ -n "$pgxnversion" ] || { echo "dist: no version in $commit:META.json" >&2; exit 1; }
case "$pgxnversion" in
  "$extversion".*) ;;
  *) echo "dist: META.json's version $pgxnversion is not reclock.control's $extversion" >&2; exit 1 ;;
esac

mkdir -p "$out"
rm -f "$out"/reclock-*.zip "$out"/reclock_*.orig.tar.gz
git archive --format=zip --prefix="reclock-$pgxnversion/" -o "$out/reclock-$pgxnversion.zip" "$commit"
# gzip -n: the same tree gives the same tarball
git archive --format=tar --prefix="reclock-$extversion/" "$commit" | gzip -n -9 >"$out/reclock_$extversion.orig.tar.gz"
echo "dist: $out/reclock-$pgxnversion.zip (PGXN), $out/reclock_$extversion.orig.tar.gz (Debian)"
