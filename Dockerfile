# doc-transcribe: one image for every role (`serve --role api|worker|all`).
# Build: docker build -t doc-transcribe .   Run: see compose.yaml and docs/scaling.md.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY . .
RUN npm run build && npm prune --omit=dev --ignore-scripts

FROM node:20-bookworm-slim AS runtime
# The engines the service runs as child processes (the same list as scripts/setup.sh RUNTIME_PACKAGES,
# without Redis, which runs as its own service).
RUN apt-get update \
  && apt-get install -y --no-install-recommends \
    tesseract-ocr tesseract-ocr-eng tesseract-ocr-hin poppler-utils ffmpeg \
    pocketsphinx pocketsphinx-en-us qpdf libtiff-tools ca-certificates \
  && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    OMP_THREAD_LIMIT=1 \
    HOST=0.0.0.0 \
    PORT=8080 \
    DATA_DIR=/var/lib/doc-transcribe
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/web/dist ./web/dist
COPY --from=build /app/prompts ./prompts
RUN useradd --system --uid 10001 --home-dir /var/lib/doc-transcribe --create-home doc-transcribe
USER doc-transcribe
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["node", "--max-semi-space-size=8", "dist/cli/main.js", "serve"]
CMD ["--role", "all"]
