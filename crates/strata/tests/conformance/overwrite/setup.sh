# A destination that is a symlink is followed to the end: a file copied onto
# a link to a file replaces the target, onto a dangling link creates the
# target; a file replaces a file; a file onto a directory goes inside it.
mkdir -p d
echo a > a
echo x > d/x
cat > Dockerfile <<'DOCKERFILE'
FROM conformance/base
RUN ln -s /existing-file /file-link && mkdir -p /t/x && echo old > /t/x/old && echo file > /t/y && ln -s /nowhere /t/dangling
COPY a /file-link
COPY a /abs-link
COPY a /t/dangling
COPY d/x /t/y
COPY a /t/x
DOCKERFILE
