# Several sources to a destination without a trailing slash: each source
# decides on its own (a file then a file leaves the last; a directory makes
# the destination a directory); one wildcard match is a file.
echo a > a
echo b > b
mkdir d
echo c > d/c
cat > Dockerfile <<'DOCKERFILE'
FROM conformance/base
COPY a b /dst
COPY d a /dst2
COPY a* /dst3
DOCKERFILE
