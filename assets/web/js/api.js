// Calls to /api/v1 with the bearer token of the console or kiosk; errors carry the server's message.

export class ApiError extends Error {
  constructor(status, code, message, detail = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.detail = detail;
  }
}

export function api(token) {
  const call = async (method, path, body, headers = {}) => {
    const init = { method, headers: { Accept: "application/json", ...headers } };
    if (token) init.headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(`/api/v1${path}`, init);
    } catch (e) {
      throw new ApiError(0, "network", "无法连接服务器，请稍后重试");
    }
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const err = data.error || {};
      throw new ApiError(response.status, err.code || "error", err.message || `请求失败 (${response.status})`,
        err.detail || null);
    }
    return data;
  };
  return {
    get: (path) => call("GET", path),
    post: (path, body, headers) => call("POST", path, body ?? {}, headers),
    put: (path, body) => call("PUT", path, body),
    patch: (path, body) => call("PATCH", path, body),
    del: (path) => call("DELETE", path),
  };
}
