#!/usr/bin/env bash
# tls_certs.sh DIR - a private PKI for the Redis TLS tests, made with openssl in DIR:
#   ca.crt/.key              the test CA
#   server.crt/.key          signed by it, for DNS:localhost and IP:127.0.0.1 (also a client
#                            certificate: cluster nodes present it to each other, --tls-cluster)
#   server-dns-only.crt/.key signed by it, for DNS:localhost only (no IP address)
#   client.crt/.key          a client certificate signed by it
#   other-ca.crt             an unrelated CA (a client trusting it must refuse the server)
# Keys are unencrypted P-256 keys, mode 0600.
set -euo pipefail
dir=${1:?usage: tls_certs.sh DIR}
mkdir -p "$dir"
cd "$dir"
umask 077
ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)

ca() { # ca NAME CN
  openssl req -x509 "${ec[@]}" -keyout "$1.key" -out "$1.crt" -days 3650 -subj "/CN=$2" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
    2>/dev/null
}
leaf() { # leaf NAME CN SERIAL EXTENSIONS
  openssl req "${ec[@]}" -keyout "$1.key" -out "$1.csr" -subj "/CN=$2" 2>/dev/null
  printf '%b' "$4" >"$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -set_serial "$3" -days 3650 \
    -extfile "$1.ext" -out "$1.crt" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}

ca ca "churnwatch test CA"
ca other-ca "churnwatch other CA"
leaf server localhost 1001 "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n"
leaf server-dns-only localhost 1002 "subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n"
leaf client churnwatch-client 1003 "extendedKeyUsage=clientAuth\n"
chmod 0644 ./*.crt
