# shellcheck shell=bash
# Sourced by the deploy scripts: runs a command, or with DRY_RUN=1 prints it instead, quoted so it can be pasted into a shell.
# Every command with an effect outside the script goes through `run`, so a dry run shows the whole plan and changes nothing.

DRY_RUN="${DRY_RUN:-0}"

print_command() {
  local arg line="+"
  for arg in "$@"; do line+=" $(printf '%q' "$arg")"; done
  printf '%s\n' "$line"
}

run() {
  if [ "$DRY_RUN" = 1 ]; then
    print_command "$@"
  else
    print_command "$@" >&2
    "$@"
  fi
}

# True when the probe command succeeds. A dry run assumes nothing exists yet, so it prints the full plan.
exists() {
  [ "$DRY_RUN" = 1 ] && return 1
  "$@" >/dev/null 2>&1
}

die() {
  printf '%s: %s\n' "${0##*/}" "$*" >&2
  exit 1
}

require_tools() {
  local tool
  [ "$DRY_RUN" = 1 ] && return 0
  for tool in "$@"; do
    command -v "$tool" >/dev/null || die "'$tool' is not installed (see deploy/README.md, prerequisites)"
  done
}

# Like `run`, with the command's standard output written to a file (which a dry run does not create).
run_to() {
  local out="$1"
  shift
  if [ "$DRY_RUN" = 1 ]; then
    printf '%s > %s\n' "$(print_command "$@")" "$out"
  else
    print_command "$@" >&2
    "$@" >"$out"
  fi
}
