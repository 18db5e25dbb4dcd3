#!/bin/sh
# The compose coordinator's principals, made once with the launcher itself: an operator whose token the
# demo-campaign service (and you: curl -H "Authorization: Bearer $(cat deploy/compose/secrets/operator.token)")
# calls the API with. A file already there is kept, so its token stays valid across runs. It runs as the
# daemons' uid, on the folder the volume-folders service handed to it (docs/security.md).
set -eu

if [ -e /srv/secrets/principals.yaml ]; then
  echo "kept /srv/secrets/principals.yaml"
  exit 0
fi
java -XX:TieredStopAtLevel=1 -jar /opt/chainmerge/chainmerge.jar token new --name compose-operator \
  --role operator --principals-file /srv/secrets/principals.yaml --token-file /srv/secrets/operator.token
