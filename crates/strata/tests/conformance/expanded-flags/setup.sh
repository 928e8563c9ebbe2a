# ARG and ENV values in --chown, in sources and destinations, in ADD and in
# WORKDIR.
echo a > a
mkdir -p dir
echo b > dir/b
cat > Dockerfile <<'DOCKERFILE'
FROM conformance/base
ARG OWNER=tester
ENV SRC=dir DEST=/dest GROUP=staff
COPY --chown=${OWNER}:$GROUP a /owned
COPY $SRC ${DEST}/
ADD --chown=$OWNER $SRC/b /added/
WORKDIR $DEST/work
DOCKERFILE
