#!/usr/bin/env bash
# The container image (Dockerfile): built and smoke-tested where an image builder
# with the base image at hand exists (docker or buildah: --version, and -n on
# every example config inside the image), else checked statically
# (dockerfile_check.py: instructions, stages, a non-root user, the exec-form
# ENTRYPOINT, debian/control's build dependencies in the build stage, and the
# Debian package of each library the built binary needs in the runtime stage).
. "$(dirname "$0")/../lib.sh"

command -v python3 >/dev/null || skip "python3 is not installed"
DOCKERFILE=$TR_SOURCE_DIR/Dockerfile
BASE=$(awk '$1 == "FROM" { print $2; exit }' "$DOCKERFILE")

python3 "$TR_SOURCE_DIR/tests/e2e/dockerfile_check.py" "$DOCKERFILE" \
	"$TR_SOURCE_DIR/debian/control" "$TR" >"$WORK/check" || { cat "$WORK/check" >&2; fail "the Dockerfile's static checks"; }
note "$(cat "$WORK/check")"

# An image builder that can build here: a running docker daemon, or buildah (podman runs it), with the base image
# already pulled (the tests reach no registry).
builder=
if command -v docker >/dev/null && timeout 20 docker info >/dev/null 2>&1 &&
	docker image inspect "$BASE" >/dev/null 2>&1; then
	builder=docker
elif command -v buildah >/dev/null && command -v podman >/dev/null &&
	buildah inspect --type image "$BASE" >/dev/null 2>&1; then
	builder=buildah
fi
if [ -z "$builder" ]; then
	note "no image builder with $BASE at hand (docker daemon or buildah): static checks only"
	exit 0
fi

TAG=traffic-reproducer-test:$$
cleanup_image() { "$builder" rmi -f "$TAG" >/dev/null 2>&1 || true; }
trap 'cleanup_image; on_exit' EXIT
if [ "$builder" = docker ]; then
	docker build -q -t "$TAG" "$TR_SOURCE_DIR" >"$WORK/build.log" 2>&1 || { tail -30 "$WORK/build.log" >&2; fail "docker build"; }
	run() { docker run --rm --network none -v "$TR_SOURCE_DIR/examples:/examples:ro" -w / "$TAG" "$@"; }
else
	buildah bud -q -t "$TAG" "$TR_SOURCE_DIR" >"$WORK/build.log" 2>&1 || { tail -30 "$WORK/build.log" >&2; fail "buildah bud"; }
	run() { podman run --rm --network none -v "$TR_SOURCE_DIR/examples:/examples:ro" -w / "$TAG" "$@"; }
fi
run --version | head -1 | grep -q "^traffic-reproducer " || fail "the image's --version"
n=0
for cfg in "$TR_SOURCE_DIR"/examples/*.yml; do
	run -n -t "examples/$(basename "$cfg")" >/dev/null || fail "the image: $(basename "$cfg") does not validate"
	n=$((n + 1))
done
note "$builder: image built; --version and $n example configs (-n) inside it"
