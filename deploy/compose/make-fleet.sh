#!/bin/sh
# The compose demo's fleet, made with the chainmerge launcher itself: checkpoint chains of depth 1 to
# 3 on pool-a's two volumes and pool-b's one, and a checkpoint tree (a disk with two children, which
# the campaign reports and leaves alone). Each level holds its own 1 MiB of data. A chain already
# there is kept, so running the demo again merges nothing new. It runs as the workers' uid, on folders
# the compose file's volume-folders service handed to it.
set -eu

chainmerge() { java -XX:TieredStopAtLevel=1 -jar /opt/chainmerge/chainmerge.jar "$@"; }

data=$(mktemp)
head -c 1048576 /dev/urandom > "$data"

# chain DIR NAME DEPTH: NAME.vhdx and NAME_1.avhdx .. NAME_DEPTH.avhdx
chain() {
  dir=$1 name=$2 depth=$3
  [ -e "$dir/$name.vhdx" ] && { echo "kept $dir/$name.vhdx"; return 0; }
  chainmerge create "$dir/$name.vhdx" --size 64MiB --block-size 1MiB
  chainmerge write "$dir/$name.vhdx" --offset 0 --input "$data"
  parent="$dir/$name.vhdx"
  level=1
  while [ "$level" -le "$depth" ]; do
    child="$dir/${name}_$level.avhdx"
    chainmerge create "$child" --parent "$parent"
    chainmerge write "$child" --offset $((level * 1048576)) --input "$data"
    parent=$child
    level=$((level + 1))
  done
}

chain /srv/pool-a/vol1 vm01 3
chain /srv/pool-a/vol1 vm02 1
chain /srv/pool-a/vol2 file01 2
chain /srv/pool-b/vol1 db01 2

# web: a base disk with two checkpoints of its own (siblings).
if [ ! -e /srv/pool-b/vol1/web.vhdx ]; then
  chainmerge create /srv/pool-b/vol1/web.vhdx --size 64MiB --block-size 1MiB
  chainmerge create /srv/pool-b/vol1/web_left.avhdx --parent /srv/pool-b/vol1/web.vhdx
  chainmerge create /srv/pool-b/vol1/web_right.avhdx --parent /srv/pool-b/vol1/web.vhdx
fi

rm -f "$data"
chainmerge scan /srv/pool-a/vol1 /srv/pool-a/vol2 /srv/pool-b/vol1
