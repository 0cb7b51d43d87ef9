#!/bin/bash
# usage: oracle.sh DIR  -> DIR/oracle/<img>.json (pretty) and .plain.json
d=$1; mkdir -p $d/oracle
for f in $d/*; do
  [ -f "$f" ] || continue
  b=$(basename $f)
  crit decode --pretty -i $f > $d/oracle/$b.json 2> $d/oracle/$b.err || rm -f $d/oracle/$b.json
  crit decode -i $f > $d/oracle/$b.plain.json 2>/dev/null || rm -f $d/oracle/$b.plain.json
  [ -s $d/oracle/$b.err ] || rm -f $d/oracle/$b.err
done
