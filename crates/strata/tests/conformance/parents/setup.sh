# COPY --parents: parent directories kept, a ./ pivot limits them, **
# matches any depth, under WORKDIR.
mkdir -p x/y src/x/y src/z
echo a > x/a.txt
echo b > x/y/b.txt
echo c > src/a.txt
echo d > src/x/b.txt
echo e > src/x/y/c.txt
echo f > src/z/d.md
cat > Dockerfile <<'DOCKERFILE'
FROM conformance/base
COPY --parents ./x/a.txt x/y/b.txt /parents/
COPY --parents ./x/./y/*.txt /pivot/
COPY --parents ./src/**/*.txt /stars/
WORKDIR /w
COPY --parents x/y ./
DOCKERFILE
