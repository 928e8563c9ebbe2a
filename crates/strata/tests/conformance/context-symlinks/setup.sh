# A context symlink pointing outside the context is resolved inside it
# (/etc/passwd is the context's etc/passwd), and one pointing above the
# context stops at its root.
mkdir -p etc sub
echo inner > etc/passwd
ln -s /etc/passwd outside-link
ln -s ../../../etc sub/escape-link
cat > Dockerfile <<'DOCKERFILE'
FROM conformance/base
COPY outside-link /ol
COPY sub/escape-link/passwd /escaped
DOCKERFILE
