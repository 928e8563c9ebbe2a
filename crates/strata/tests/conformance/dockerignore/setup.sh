# .dockerignore: excluded paths are not in the context (COPY . .),
# exceptions with !, patterns at any depth with **.
mkdir -p node_modules/x src/__pycache__ docs keep .git
echo 1 > node_modules/x/i
echo 2 > src/app.py
echo 3 > src/__pycache__/a.pyc
echo 4 > README.md
echo 5 > other.md
echo 6 > .env
echo 7 > .env.local
echo 8 > debug.log
echo 9 > keep/k.log
echo h > .git/HEAD
echo 10 > Dockerfile.prod
printf 'node_modules\n*.md\n!README.md\n.env\n.env.*\n**/__pycache__\n*.log\n.git\nDockerfile*\n.dockerignore\n' > .dockerignore
cat > Dockerfile <<'DOCKERFILE'
FROM conformance/base
WORKDIR /app
COPY . .
COPY . /copy2/
COPY *.md /mds/
USER tester
WORKDIR /home/tester/work/sub
WORKDIR /created-as-tester
COPY keep ./keep
DOCKERFILE
