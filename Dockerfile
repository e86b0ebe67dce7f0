# Waitroom in a container (docs/operations.md#docker). Two stages: the first builds the release
# binary and the .deb (packaging/debian/build-deb); the second is debian:12-slim with that .deb
# installed, so apt brings exactly the runtime libraries its Depends names.
#   docker build -t waitroom .
#   docker run -p 8080:8080 -e WAITROOM_ADMIN_KEY=... -v waitroom-data:/var/lib/waitroom waitroom
# Mount a config and add `--config /etc/waitroom/waitroom.toml` to create rooms at start.

FROM debian:12-slim AS build
# The build dependencies of DESIGN.md section 6 (scripts/bootstrap installs these and the test tools).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      g++ cmake ninja-build make pkg-config dpkg-dev help2man \
      libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev libssl-dev libspdlog-dev \
      libfmt-dev libcli11-dev libtomlplusplus-dev libre2-dev libqrencode-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake --preset release -DWAITROOM_TESTS=OFF \
 && cmake --build --preset release \
 && packaging/debian/build-deb build/release /out

FROM debian:12-slim
COPY --from=build /out/ /tmp/deb/
# curl is for the HEALTHCHECK. The admin key the package's postinst generates would be baked into
# the image, the same for everyone who pulls it: removed, give WAITROOM_ADMIN_KEY instead.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends /tmp/deb/waitroom_*.deb curl \
 && rm -rf /var/lib/apt/lists/* /tmp/deb /etc/waitroom/admin.key
USER waitroom
WORKDIR /var/lib/waitroom
VOLUME /var/lib/waitroom
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["/usr/bin/waitroom"]
CMD ["serve", "--listen", "0.0.0.0:8080", "--data-dir", "/var/lib/waitroom"]
