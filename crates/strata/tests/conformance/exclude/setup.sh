# COPY --exclude: patterns relative to each source, several, with ** and
# with wildcard sources.
mkdir -p src/x/y src/z homedir
echo c > src/a.txt
echo d > src/x/b.txt
echo e > src/x/y/c.txt
echo f > src/z/d.md
echo g > src/x/y/skip.log
echo 1 > homefile.txt
echo 3 > homedir/in.txt
echo 4 > homedir/in.md
cat > Dockerfile <<'DOCKERFILE'
FROM conformance/base
COPY --exclude=*.txt --exclude=**/*.log src /excluded/
COPY --exclude=x src/ /excl2/
COPY --exclude=*.txt hom* /mydir/
ADD --exclude=*.md homedir /added/
DOCKERFILE
