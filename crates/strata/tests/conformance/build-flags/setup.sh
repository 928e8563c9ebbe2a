# docker build's flags: -f with the Dockerfile's own .dockerignore (it wins
# over the context's), a bare --build-arg taken from the environment,
# --label over the Dockerfile's labels.
mkdir -p sub docs
echo a > a.txt
echo b > b.log
echo c > docs/c.md
echo '*.txt' > .dockerignore
printf '*.log\ndocs\n' > sub/Custom.Dockerfile.dockerignore
cat > sub/Custom.Dockerfile <<'DOCKERFILE'
FROM conformance/base
ARG FROMENV
ARG DEFAULTED=default
LABEL from-file=1 overridden=file
RUN echo "$FROMENV $DEFAULTED" > /args
COPY . /ctx/
DOCKERFILE
