# A wildcard matching several files to a destination without a slash (the
# last one wins) and several directories (their contents merged).
echo a > a.txt
echo b > b.txt
mkdir -p d1 d2
echo 1 > d1/one
echo 2 > d2/two
cat > Dockerfile <<'DOCKERFILE'
FROM conformance/base
COPY *.txt /dst
COPY d* /dirs
DOCKERFILE
