#!/bin/sh
set -e
GREETING="${GREETING:-hey}"
cat > /usr/local/bin/hello <<SCRIPT
#!/bin/sh
echo "${GREETING}, \$(whoami)!"
SCRIPT
chmod +x /usr/local/bin/hello
