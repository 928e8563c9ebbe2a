# WORKDIR through symlinks, owned by the USER (ids, names, unknown names are
# root), relative, the root.
true
cat > Dockerfile <<'DOCKERFILE'
FROM conformance/base
WORKDIR /link-dir/sub
WORKDIR /abs-link/other/deep
USER 1000:50
WORKDIR /numeric/owned
USER nosuch
WORKDIR /unknown-user
USER tester:staff
WORKDIR /home/tester/x
WORKDIR /
WORKDIR /tmp
DOCKERFILE
