# The chainmerge image: one launcher whose commands are `coordinator`, `worker`, `campaign ...` and
# the offline disk commands. It packs the Maven build's output, so build that first:
#
#   mvn -B -ntp -DskipTests package
#   docker build -t chainmerge/chainmerge:0.1.0-SNAPSHOT .
#
# The tag is the Maven project version; docker-compose.yml and k8s/ name the same image (tests in
# cli, DeploymentManifestsTest and DeploymentIT, keep the three and the build output in agreement).
FROM eclipse-temurin:17.0.15_6-jre-noble

LABEL org.opencontainers.image.title="chainmerge" \
      org.opencontainers.image.description="Merges Hyper-V differencing-disk chains: coordinator, worker and disk commands" \
      org.opencontainers.image.version="0.1.0-SNAPSHOT"

# curl for docker-compose's health checks on /ready (Kubernetes probes need nothing in the image).
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 chainmerge \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/chainmerge --create-home \
      --shell /usr/sbin/nologin chainmerge \
 && mkdir -p /etc/chainmerge

# Libraries first: they change less often than the launcher, so rebuilds reuse this layer.
COPY cli/target/lib/ /opt/chainmerge/lib/
COPY cli/target/chainmerge.jar /opt/chainmerge/chainmerge.jar

# Not root: the worker reaches only the volume folders its uid may write (see k8s/README.md).
USER 10001:10001
WORKDIR /var/lib/chainmerge

# 8080: the coordinator's HTTP API, /health, /ready, /metrics. 8081: the worker's /health, /ready,
# /metrics (and disk transfers). Both are the http.port defaults.
EXPOSE 8080 8081

# The JVM sizes its heap from the container's memory limit (container support is on by default);
# 75 % leaves room for the page cache the merge engine's flushes go through and for metaspace.
# Add options with JDK_JAVA_OPTIONS.
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=75", "-XX:+ExitOnOutOfMemoryError", "-jar", "/opt/chainmerge/chainmerge.jar"]
CMD ["--help"]
