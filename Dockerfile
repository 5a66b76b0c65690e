# traffic-reproducer in a container: build with `docker build -t traffic-reproducer .`
# (or `buildah bud`), run with the host's network so the collector and the
# exporters' addresses are the host's:
#   docker run --rm --network host -v "$PWD:/work" traffic-reproducer -t /work/config.yml
# The image runs as an unprivileged user.  Binding to a VRF or device, and
# network.spoof: raw, need more: add --cap-add NET_RAW (raw) or --cap-add
# NET_ADMIN (SO_BINDTODEVICE), or run with --user root.

# ---- build: the Release binary and what `make install` installs ----
FROM debian:12-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      ca-certificates cmake gcc libc6-dev make pkg-config scdoc \
      libpcap-dev libyaml-dev libjansson-dev libssl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
 && cmake --build /build -j"$(nproc)" \
 && DESTDIR=/out cmake --install /build

# ---- runtime: the binary, its man pages, examples and schemas, and the shared libraries it needs ----
FROM debian:12-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libpcap0.8 libyaml-0-2 libjansson4 libssl3 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --user-group --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin reproducer
COPY --from=build /out/usr/ /usr/
USER reproducer
WORKDIR /tmp
ENTRYPOINT ["traffic-reproducer"]
CMD ["--help"]
