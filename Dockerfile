# syntax=docker/dockerfile:1
# The chainmerge image: one launcher whose commands are `coordinator`, `worker`, `campaign ...`, `demo`
# and the offline disk commands. It builds from a clean clone on its own:
#
#   docker build -t chainmerge/chainmerge:0.1.0-SNAPSHOT .
#
# The first stage builds the release archive with Maven (the tests are CI's job: `mvn verify`); the
# second unpacks it onto a JRE. The tag is the Maven project version; docker-compose.yml and k8s/ name
# the same image (cli's DeploymentManifestsTest keeps the three, the archive and this file in agreement).

FROM eclipse-temurin:17.0.15_6-jdk-noble AS build

# Maven from Maven Central, pinned by checksum (the build needs 3.8 or newer).
ADD --checksum=sha256:4b7195b6a4f5c81af4c0212677a32ee8143643401bc6e1e8412e6b06ea82beac \
    https://repo.maven.apache.org/maven2/org/apache/maven/apache-maven/3.9.11/apache-maven-3.9.11-bin.tar.gz \
    /tmp/maven.tar.gz
RUN mkdir -p /opt/maven \
 && tar xzf /tmp/maven.tar.gz --strip-components=1 -C /opt/maven \
 && rm /tmp/maven.tar.gz

WORKDIR /src
COPY . /src
# The local repository is a build cache, so a rebuild downloads nothing it already has. Spotless is
# skipped: it formats sources for developers and would fetch its formatter for nothing.
RUN --mount=type=cache,target=/root/.m2 \
    /opt/maven/bin/mvn -B -ntp -DskipTests -Dspotless.skip=true package \
 && mkdir -p /opt/chainmerge \
 && tar xzf cli/target/chainmerge-*.tar.gz --strip-components=1 -C /opt/chainmerge

FROM eclipse-temurin:17.0.15_6-jre-noble

LABEL org.opencontainers.image.title="chainmerge" \
      org.opencontainers.image.description="Merges Hyper-V differencing-disk chains: coordinator, worker and disk commands" \
      org.opencontainers.image.version="0.1.0-SNAPSHOT" \
      org.opencontainers.image.licenses="Apache-2.0"

# curl for the health checks (this image's and docker-compose's on /ready; Kubernetes probes need nothing).
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 chainmerge \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/chainmerge --create-home \
      --shell /usr/sbin/nologin chainmerge \
 && mkdir -p /etc/chainmerge

# The unpacked release archive: chainmerge.jar with lib/ (its class path) and broker/ (the Kafka broker
# `demo` starts in a process of its own) beside it, bin/, conf/ examples.
COPY --from=build /opt/chainmerge/ /opt/chainmerge/

# Not root: the worker reaches only the volume folders its uid may write (see k8s/README.md).
USER 10001:10001
WORKDIR /var/lib/chainmerge

# 8080: the coordinator's HTTP API, /health, /ready, /metrics. 8081: the worker's /health, /ready,
# /metrics (and disk transfers). Both are the http.port defaults.
EXPOSE 8080 8081

# Alive: the daemon's /health answers, on CHAINMERGE_HTTP_PORT when set, else on either default port.
# (docker-compose checks /ready instead; a one-shot command such as `campaign` has no health to report.)
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD for port in ${CHAINMERGE_HTTP_PORT:-} 8080 8081; do curl -fsS -o /dev/null "http://localhost:$port/health" && exit 0; done; exit 1

# The JVM sizes its heap from the container's memory limit (container support is on by default);
# 75 % leaves room for the page cache the merge engine's flushes go through and for metaspace.
# Add options with JDK_JAVA_OPTIONS.
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=75", "-XX:+ExitOnOutOfMemoryError", "-jar", "/opt/chainmerge/chainmerge.jar"]
CMD ["--help"]
