#!/bin/sh
# kv-make-certs: a private CA and one node certificate for a cluster's TLS
# (docs/operations.md, "TLS"), made with openssl.
#
#   make-certs.sh DIR NAME [NAME...]
#
# Writes DIR/ca.crt (the CA every node and client verifies against),
# DIR/node.crt and DIR/node.key (one certificate for every node, for
# --tls_cert/--tls_key; --tls_ca is DIR/ca.crt). Each NAME is a host name
# or IPv4 address the nodes are dialled by (service names, pod DNS names,
# localhost, 127.0.0.1): it goes into the certificate's subjectAltName. The
# certificate is for both ends of a connection (serverAuth and clientAuth),
# so centrals and edges present it to each other for mutual TLS.
#
# The CA's private key is not kept (nothing can be signed by it later): to
# add a name, or when the certificate nears its end (825 days), run the
# script on an empty DIR and restart the nodes. When DIR already holds the
# three files it changes nothing (so the docker-compose `certs` service can
# run at every `up`); when it holds only some of them it refuses (exit 1)
# rather than overwrite an operator's files. A production cluster would rather issue one
# certificate per node from its own CA (e.g. cert-manager).
set -eu
if [ $# -lt 2 ]; then
  echo "usage: $0 DIR NAME [NAME...]" >&2
  exit 2
fi
dir=$1
shift
if [ -s "$dir/ca.crt" ] && [ -s "$dir/node.crt" ] && [ -s "$dir/node.key" ]; then
  echo "kv-make-certs: $dir already holds ca.crt, node.crt and node.key; kept"
  exit 0
fi
for f in ca.crt node.crt node.key; do
  if [ -e "$dir/$f" ]; then
    # Some of the set only (an operator's own files, the key not copied
    # yet?): never overwrite them.
    echo "kv-make-certs: $dir holds $f but not all of ca.crt, node.crt and node.key;" \
      "add the rest, or empty $dir to make a new set" >&2
    exit 1
  fi
done
mkdir -p "$dir"
san=""
for name in "$@"; do
  case $name in
    *[!0-9.]*) entry="DNS:$name" ;;
    *) entry="IP:$name" ;;
  esac
  san="${san:+$san,}$entry"
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
umask 077
printf '%s\n' "subjectAltName=$san" 'basicConstraints=CA:FALSE' \
  'keyUsage=digitalSignature,keyEncipherment' 'extendedKeyUsage=serverAuth,clientAuth' \
  > "$work/node.ext"
# openssl's progress chatter is dropped; its error, if any, is shown.
ssl() { openssl "$@" 2>"$work/openssl.err" || { cat "$work/openssl.err" >&2; exit 1; }; }
ssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
  -keyout "$work/ca.key" -out "$work/ca.crt" -subj "/CN=workers-kv cluster CA"
ssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -keyout "$work/node.key" -out "$work/node.csr" -subj "/CN=workers-kv node"
ssl x509 -req -in "$work/node.csr" -CA "$work/ca.crt" -CAkey "$work/ca.key" \
  -CAcreateserial -days 825 -extfile "$work/node.ext" -out "$work/node.crt"
# The key last: its presence says the set is complete. The certificates
# are public (Prometheus, running as another user, reads ca.crt); the key
# is for the nodes' user only.
install -m 644 "$work/ca.crt" "$work/node.crt" "$dir/"
install -m 600 "$work/node.key" "$dir/node.key"
echo "kv-make-certs: wrote $dir/ca.crt, node.crt and node.key for $san"
