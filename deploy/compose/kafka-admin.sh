#!/bin/sh
# Writes the client settings of Kafka's super user "admin" (SASL PLAIN; docker-compose.yml, service kafka)
# to the file named, readable by its owner only: the broker's health check and the services that make the
# daemons' users and ACLs log in with them. The password comes from CHAINMERGE_KAFKA_ADMIN_PASSWORD.
set -eu
umask 077
cat > "$1" <<PROPERTIES
security.protocol=SASL_PLAINTEXT
sasl.mechanism=PLAIN
sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="${CHAINMERGE_KAFKA_ADMIN_PASSWORD}";
PROPERTIES
