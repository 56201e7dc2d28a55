-- Neovim 0.7 (Debian) as a push-diagnostics LSP client of the language server, headless.
-- Env: SERVER (the server's bin), WS (workspace root), LINE/COL (0-based completion position), OUT (JSON result file).
local server, root, out = os.getenv("SERVER"), os.getenv("WS"), os.getenv("OUT")
local result = { diagnostics = {}, completion = {}, hover = "" }
local id = vim.lsp.start_client({
  name = "stellar-secrets",
  cmd = { "node", server, "--stdio" },
  root_dir = root,
  workspace_folders = { { uri = vim.uri_from_fname(root), name = "ws" } },
})
vim.lsp.buf_attach_client(0, id)
vim.wait(30000, function() return #vim.diagnostic.get(0) > 0 end, 50)
for _, d in ipairs(vim.diagnostic.get(0)) do
  local code = d.code or (d.user_data and d.user_data.lsp and d.user_data.lsp.code) or ""
  table.insert(result.diagnostics, { line = d.lnum, col = d.col, end_col = d.end_col, code = code, message = d.message })
end
local pos = { line = tonumber(os.getenv("LINE")), character = tonumber(os.getenv("COL")) }
local params = { textDocument = { uri = vim.uri_from_bufnr(0) }, position = pos }
local res = vim.lsp.buf_request_sync(0, "textDocument/completion", params, 10000) or {}
for _, r in pairs(res) do
  local items = r.result and (r.result.items or r.result) or {}
  for _, item in ipairs(items) do table.insert(result.completion, item.label) end
end
local hov = vim.lsp.buf_request_sync(0, "textDocument/hover", params, 10000) or {}
for _, r in pairs(hov) do
  if r.result and r.result.contents then result.hover = r.result.contents.value or "" end
end
local f = io.open(out, "w")
f:write(vim.fn.json_encode(result))
f:close()
vim.lsp.stop_client(id)
vim.cmd("qa!")
