# The predefined proxy build args reach every RUN (upper and lower case)
# without an ARG, and stay out of the history; other build args do not.
cat > Dockerfile <<'DOCKERFILE'
FROM conformance/base
RUN echo "[$http_proxy][$HTTP_PROXY][$HTTPS_PROXY][$https_proxy][$no_proxy][$OTHER]" > /p
ARG no_proxy
RUN echo "[$no_proxy][$NO_PROXY]" > /q
DOCKERFILE
