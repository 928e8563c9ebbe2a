# Symbolic --chmod (Dockerfile 1.14; docker 20.10 ignores it silently).
echo a > a
echo x > x
chmod 755 x
mkdir -p d/e
echo f > d/f
cat > Dockerfile <<'DOCKERFILE'
FROM conformance/base
COPY --chmod=u+x,g-r a /s1
COPY --chmod=go= x /s2
COPY --chmod=u=rwX,go=rX d /s3
COPY --chmod=+x a /s4
DOCKERFILE
