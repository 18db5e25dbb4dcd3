#!/bin/sh
# Each daemon's Kafka user gets its role's ACLs and nothing more (docker-compose.yml, service kafka-acls):
# the ones `chainmerge kafka acls` prints, which the demo and k8s/ grant too (docs/security.md#kafka-identities).
# One line per user, read by cli's ComposeKafkaIT, which grants the same on its broker.
set -eu
sh /etc/chainmerge/kafka-admin.sh /tmp/admin.properties
chainmerge() { java -XX:TieredStopAtLevel=1 -jar /opt/chainmerge/chainmerge.jar "$@"; }

chainmerge kafka acls --role coordinator --principal User:chainmerge-coordinator --apply --bootstrap kafka:9092 --kafka-config /tmp/admin.properties
chainmerge kafka acls --role worker --pool pool-a --principal User:worker-a --apply --bootstrap kafka:9092 --kafka-config /tmp/admin.properties
chainmerge kafka acls --role worker --pool pool-b --principal User:worker-b --apply --bootstrap kafka:9092 --kafka-config /tmp/admin.properties
