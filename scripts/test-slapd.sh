#!/usr/bin/env bash
# test-slapd.sh - a throwaway OpenLDAP server for bmabot's tests and for development.
#
#   bash scripts/test-slapd.sh install         # apt-get install slapd ldap-utils openssl if missing
#   eval "$(bash scripts/test-slapd.sh start)" # start; prints only 'export NAME=value' lines
#   bash scripts/test-slapd.sh stop DIR        # stop it and delete DIR ($SLAPD_TEST_DIR)
#
# The server listens on 127.0.0.1 on a free port, lives in a new temporary folder, and has
# the inetOrgPerson schema and the ppolicy overlay with pwdMustChange, so a password set by
# the admin through Password Modify marks the entry pwdReset (change at first log-in). It
# never touches the system slapd (/etc/ldap/slapd.d) and needs no systemd: root in CI or a
# normal user on a laptop both work. Test-grade ACLs: never copy them to production.
#
# Environment (all optional): LDAP_BASE_DN (dc=bangkok,dc=go,dc=th), LDAP_ADMIN_PASSWORD
# (random), LDAP_PORT (fixed port, no retry), SLAPD_TLS=1 (a self-signed certificate for
# 127.0.0.1 and an ldaps:// listener: exports LDAPS_URL and LDAP_CA_CERT too), SLAPD_DEBUG=1
# (log level stats to $SLAPD_TEST_DIR/slapd.log). Messages go to stderr; stdout is only
# the export lines.
set -euo pipefail

log() { printf 'test-slapd: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

SLAPD=${SLAPD:-/usr/sbin/slapd}
SLAPADD=${SLAPADD:-/usr/sbin/slapadd}
SLAPPASSWD=${SLAPPASSWD:-/usr/sbin/slappasswd}
MODULE_DIR=${SLAPD_MODULE_DIR:-/usr/lib/ldap}
SCHEMA_DIR=${SLAPD_SCHEMA_DIR:-/etc/ldap/schema}
# stop deletes only a folder holding this file: a wrong argument cannot remove anything else
MARKER=.bmabot-test-slapd

install_packages() {
  if [ -x "$SLAPD" ] && command -v ldapwhoami >/dev/null && command -v openssl >/dev/null; then
    log "slapd, ldap-utils and openssl are already installed"
    return 0
  fi
  export DEBIAN_FRONTEND=noninteractive
  # In a container policy-rc.d keeps the package from starting the system slapd; on a VM
  # it may start one on port 389, which does not disturb ours on its own port.
  apt-get update -qq >&2
  apt-get install -y -q --no-install-recommends slapd ldap-utils openssl >&2
}

# Alive and not a zombie: in containers PID 1 may reap an exited daemon late.
alive() {
  local state
  kill -0 "$1" 2>/dev/null || return 1
  state=$(sed -n 's/^[0-9]* (.*) \([A-Za-z]\) .*/\1/p' "/proc/$1/stat" 2>/dev/null || true)
  [ "$state" != Z ] && [ "$state" != X ]
}

stop_server() {
  local dir=${1:-${SLAPD_TEST_DIR:-}} pid=""
  [ -n "$dir" ] || die "stop: give the folder (SLAPD_TEST_DIR)"
  [ -d "$dir" ] || { log "stop: $dir does not exist (already stopped?)"; return 0; }
  [ -f "$dir/$MARKER" ] || die "stop: $dir was not made by this script; not deleting it"
  dir=$(cd "$dir" && pwd -P)
  [ -f "$dir/slapd.pid" ] && pid=$(cat "$dir/slapd.pid" 2>/dev/null || true)
  # Signal only a slapd started on this folder, in case the pid was reused.
  if [ -n "$pid" ] && alive "$pid" \
    && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$dir/slapd.d"; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 200); do alive "$pid" || break; sleep 0.05; done
    if alive "$pid"; then
      log "slapd $pid still running after 10 s: KILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -rf -- "$dir"
  log "stopped slapd (pid ${pid:-none}), removed $dir"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

write_config_ldif() {
  cat >"$1" <<EOF
dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: $DIR/slapd.pid
olcArgsFile: $DIR/slapd.args
olcLogLevel: $LOGLEVEL
olcToolThreads: 1
$TLS_CONFIG

dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModulePath: $MODULE_DIR
olcModuleLoad: {0}back_mdb
olcModuleLoad: {1}ppolicy

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file://$SCHEMA_DIR/core.ldif

include: file://$SCHEMA_DIR/cosine.ldif

include: file://$SCHEMA_DIR/nis.ldif

include: file://$SCHEMA_DIR/inetorgperson.ldif

dn: olcDatabase={-1}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {-1}frontend
olcSizeLimit: 1000
olcAccess: {0}to dn.exact="" by * read
olcAccess: {1}to dn.base="cn=Subschema" by * read

dn: olcDatabase={0}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {0}config
olcAccess: {0}to * by * none

dn: olcDatabase={1}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {1}mdb
olcSuffix: $BASE_DN
olcRootDN: $ADMIN_DN
olcRootPW: $ADMIN_HASH
olcDbDirectory: $DIR/data
olcDbMaxSize: 268435456
olcDbNoSync: TRUE
olcDbIndex: objectClass eq
olcDbIndex: uid,cn,mail,employeeNumber eq,sub
olcDbIndex: x500UniqueIdentifier eq
olcLastMod: TRUE
olcAccess: {0}to attrs=userPassword by self write by anonymous auth by * none
olcAccess: {1}to * by self read by users read by * none

dn: olcOverlay={0}ppolicy,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcPPolicyConfig
olcOverlay: {0}ppolicy
olcPPolicyDefault: cn=default,ou=policies,$BASE_DN
olcPPolicyHashCleartext: TRUE
olcPPolicyUseLockout: TRUE
EOF
}

# pwdCheckQuality 1 makes pwdMinLength count; the rootDN bypasses both, so the project must
# make strong temporary passwords itself (core/rules/passwords.py).
write_data_ldif() {
  local top=${BASE_DN%%,*}
  top=${top#*=}
  case "$BASE_DN" in
    dc=*) printf 'dn: %s\nobjectClass: dcObject\nobjectClass: organization\no: %s\ndc: %s\n' \
      "$BASE_DN" "$top" "$top" >"$1" ;;
    o=*) printf 'dn: %s\nobjectClass: organization\no: %s\n' "$BASE_DN" "$top" >"$1" ;;
    *) die "LDAP_BASE_DN must start with dc= or o= (got $BASE_DN)" ;;
  esac
  cat >>"$1" <<EOF

dn: ou=people,$BASE_DN
objectClass: organizationalUnit
ou: people

dn: ou=policies,$BASE_DN
objectClass: organizationalUnit
ou: policies

dn: cn=default,ou=policies,$BASE_DN
objectClass: device
objectClass: pwdPolicy
cn: default
pwdAttribute: userPassword
pwdMustChange: TRUE
pwdAllowUserChange: TRUE
pwdSafeModify: FALSE
pwdCheckQuality: 1
pwdMinLength: 8
pwdInHistory: 5
pwdLockout: TRUE
pwdMaxFailure: 5
pwdLockoutDuration: 300
pwdFailureCountInterval: 300
EOF
}

make_certificate() {
  # An EC key takes a fraction of RSA's time. Valid for 127.0.0.1 and localhost, 2 days.
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$DIR/tls/server.key" -out "$DIR/tls/server.crt" -days 2 -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" >/dev/null 2>&1 ||
    die "openssl could not make a certificate (is openssl installed?)"
  chmod 600 "$DIR/tls/server.key"
  TLS_CONFIG="olcTLSCertificateFile: $DIR/tls/server.crt
olcTLSCertificateKeyFile: $DIR/tls/server.key"
}

# $1 = ldap port, $2 = ldaps port (used only with TLS)
run_slapd() {
  local urls="ldap://127.0.0.1:$1/"
  [ -z "$TLS_CONFIG" ] || urls="$urls ldaps://127.0.0.1:$2/"
  if [ "$LOGLEVEL" = stats ]; then
    # -d keeps slapd in the foreground with its log on stderr: run it in the background.
    "$SLAPD" -h "$urls" -F "$DIR/slapd.d" -d stats >>"$DIR/slapd.log" 2>&1 &
    return 0
  fi
  # Daemon mode: the parent exits only once the listeners are open, and fails when a port
  # was taken meanwhile; then other free ports are tried.
  "$SLAPD" -h "$urls" -F "$DIR/slapd.d" >>"$DIR/slapd.log" 2>&1
}

# Runs slapd on free ports; prints "LDAP_PORT LDAPS_PORT" when it answers an admin bind.
launch() {
  local attempt port tls_port
  for attempt in 1 2 3 4 5; do
    port=${LDAP_PORT:-$(free_port)}
    tls_port=$(free_port)
    if run_slapd "$port" "$tls_port" && wait_until_up "$port"; then
      echo "$port $tls_port"
      return 0
    fi
    log "slapd did not start on port $port (attempt $attempt); log: $(tail -n 5 "$DIR/slapd.log")"
    if [ -s "$DIR/slapd.pid" ]; then kill -TERM "$(cat "$DIR/slapd.pid")" 2>/dev/null || true; fi
    rm -f "$DIR/slapd.pid"
    [ -z "${LDAP_PORT:-}" ] || return 1
  done
  return 1
}

wait_until_up() {
  for _ in $(seq 1 200); do # up to 10 s
    if [ -s "$DIR/slapd.pid" ] &&
      ldapwhoami -x -H "ldap://127.0.0.1:$1" -D "$ADMIN_DN" -w "$ADMIN_PW" >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.05
  done
  return 1
}

start_server() {
  [ -x "$SLAPD" ] || die "$SLAPD not found: run 'bash $0 install' first"
  BASE_DN=${LDAP_BASE_DN:-dc=bangkok,dc=go,dc=th}
  ADMIN_DN="cn=admin,$BASE_DN"
  ADMIN_PW=${LDAP_ADMIN_PASSWORD:-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')}
  DIR=$(mktemp -d "${TMPDIR:-/tmp}/bmabot-slapd.XXXXXX")
  DIR=$(cd "$DIR" && pwd -P)
  : >"$DIR/$MARKER"
  trap 'stop_server "$DIR" >/dev/null 2>&1 || true' EXIT # any failure: leave nothing behind
  mkdir -p "$DIR/slapd.d" "$DIR/data" "$DIR/tls"
  chmod 700 "$DIR"
  LOGLEVEL=none
  if [ "${SLAPD_DEBUG:-0}" = 1 ]; then LOGLEVEL=stats; fi
  TLS_CONFIG=""
  if [ "${SLAPD_TLS:-0}" = 1 ]; then make_certificate; fi
  ADMIN_HASH=$("$SLAPPASSWD" -s "$ADMIN_PW")
  write_config_ldif "$DIR/config.ldif"
  write_data_ldif "$DIR/data.ldif"
  "$SLAPADD" -n0 -F "$DIR/slapd.d" -l "$DIR/config.ldif" >"$DIR/slapadd.log" 2>&1 ||
    { cat "$DIR/slapadd.log" >&2; die "slapadd of cn=config failed"; }
  "$SLAPADD" -n1 -F "$DIR/slapd.d" -l "$DIR/data.ldif" >>"$DIR/slapadd.log" 2>&1 ||
    { cat "$DIR/slapadd.log" >&2; die "slapadd of the base entries failed"; }
  local ports
  ports=$(launch) || die "could not start slapd"
  trap - EXIT
  log "slapd pid $(cat "$DIR/slapd.pid") on 127.0.0.1:${ports% *}, folder $DIR"
  print_exports "${ports% *}" "${ports#* }"
}

print_exports() {
  # Single-quoted values: safe for eval and for dotenv-style readers.
  q() { printf "'%s'" "${1//\'/\'\\\'\'}"; }
  cat <<EOF
export LDAP_URL=$(q "ldap://127.0.0.1:$1")
export LDAP_BASE_DN=$(q "$BASE_DN")
export LDAP_BIND_DN=$(q "$ADMIN_DN")
export LDAP_BIND_PASSWORD=$(q "$ADMIN_PW")
export LDAP_PEOPLE_DN=$(q "ou=people,$BASE_DN")
export LDAP_PPOLICY_DN=$(q "cn=default,ou=policies,$BASE_DN")
export SLAPD_TEST_DIR=$(q "$DIR")
export SLAPD_TEST_PID=$(q "$(cat "$DIR/slapd.pid")")
EOF
  [ -n "$TLS_CONFIG" ] || return 0
  cat <<EOF
export LDAPS_URL=$(q "ldaps://127.0.0.1:$2")
export LDAP_CA_CERT=$(q "$DIR/tls/server.crt")
EOF
}

case "${1:-start}" in
  install) install_packages ;;
  start) start_server ;;
  stop) stop_server "${2:-}" ;;
  -h | --help | help) sed -n '2,18p' "$0" ;;
  *) die "unknown command '$1' (install | start | stop DIR)" ;;
esac
