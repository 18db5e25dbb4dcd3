#!/bin/sh
# The daemons' Kafka users (docker-compose.yml, service kafka-users): a SCRAM-SHA-512 credential for each
# user=password of CHAINMERGE_KAFKA_USERS, made by admin with the broker's own kafka-configs.sh. Run again,
# it sets the same passwords (docs/security.md#kafka-identities).
set -eu
sh /etc/chainmerge/kafka-admin.sh /tmp/admin.properties
for entry in $CHAINMERGE_KAFKA_USERS; do
  user=${entry%%=*}
  password=${entry#*=}
  /opt/kafka/bin/kafka-configs.sh --bootstrap-server kafka:9092 --command-config /tmp/admin.properties \
    --alter --entity-type users --entity-name "$user" --add-config "SCRAM-SHA-512=[password=$password]"
done
