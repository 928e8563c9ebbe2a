# COPY of files, globs, directories (contents, trailing slashes), several
# sources, empty directories, symlinks named as sources (followed), relative
# destinations under WORKDIR, destinations through symlinks and over
# existing files and directories.
mkdir -p src/sub emptydir dir2
echo a > a.txt
echo b > b.txt
echo c > src/c.py
echo d > src/sub/d.py
chmod 600 src/sub/d.py
chmod 750 src/sub
echo e > dir2/e
ln -s a.txt link-to-a
ln -s src src-link
cat > Dockerfile <<'DOCKERFILE'
FROM conformance/base
COPY a.txt /
COPY a.txt /dest1/
COPY a.txt /dest2
COPY *.txt /globbed/
COPY src /srcdir
COPY src/ /srcdir2/
COPY a.txt b.txt /multi/
COPY emptydir /empty
COPY link-to-a /followed
COPY src-link /src-via-link
WORKDIR /app
COPY a.txt .
COPY a.txt rel/
COPY src ./nested/deeper/
COPY dir2 real-dir-parent/
COPY a.txt /link-dir/
COPY b.txt /abs-link/b
COPY a.txt /existing-file
COPY dir2/e /real-dir
DOCKERFILE
