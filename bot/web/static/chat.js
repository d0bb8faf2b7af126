/* 天府科技助手 · mobile web chat. Plain script, no libraries: it must run in WeChat's
   in-app browser and offline. The server keeps who you are (an HttpOnly cookie); this page
   only shows messages, sends what you type or press, and listens for notices (SSE). */
(function () {
  "use strict";
  var list = document.getElementById("messages");
  var form = document.getElementById("composer");
  var box = document.getElementById("text");
  var sendBtn = document.getElementById("send");
  var photo = document.getElementById("photo");
  var voiceBtn = document.getElementById("voice");
  var voiceFile = document.getElementById("voice-file");
  var status = document.getElementById("status");
  var HISTORY = "tianfu-chat-history";
  var busy = false;
  var history = [];

  function save() {
    try {
      localStorage.setItem(HISTORY, JSON.stringify(history.slice(-80)));
    } catch (e) { /* private mode: no history, the chat still works */ }
  }

  function scrollDown() {
    list.scrollTop = list.scrollHeight;
  }

  /* item: {who: "me"|"bot"|"notice"|"error", text, buttons, source, media, spent} */
  function render(item, index) {
    var wrap = document.createElement("div");
    wrap.className = "msg " + item.who;
    var bubble = document.createElement("div");
    bubble.className = "bubble";
    if (item.who === "notice") {
      var tag = document.createElement("div");
      tag.className = "tag";
      tag.textContent = "通知";
      bubble.appendChild(tag);
    }
    bubble.appendChild(document.createTextNode(item.text || ""));
    (item.media || []).forEach(function (m) {
      if (m.kind === "voice") {
        var audio = document.createElement("audio");
        audio.controls = true;
        audio.preload = "none";
        audio.src = m.url;
        bubble.appendChild(audio);
      } else {
        var img = document.createElement("img");
        img.alt = "照片";
        img.loading = "lazy";
        img.src = m.url;
        bubble.appendChild(img);
      }
    });
    wrap.appendChild(bubble);
    var buttons = item.buttons || [];
    if (buttons.length) {
      var acts = document.createElement("div");
      acts.className = "acts";
      buttons.forEach(function (b) {
        var btn = document.createElement("button");
        btn.type = "button";
        btn.textContent = b.label;
        btn.setAttribute("data-action", b.action);
        if (item.spent) {
          btn.disabled = true;
          if (item.spent === b.action) btn.className = "chosen";
        }
        btn.addEventListener("click", function () {
          if (busy || btn.disabled) return;
          item.spent = b.action;
          save();
          Array.prototype.forEach.call(acts.children, function (x) { x.disabled = true; });
          btn.className = "chosen";
          post({ action: b.action }, b.label);
        });
        acts.appendChild(btn);
      });
      wrap.appendChild(acts);
    }
    list.appendChild(wrap);
    return wrap;
  }

  function add(item, keep) {
    if (keep !== false) {
      history.push(item);
      save();
    }
    var node = render(item);
    scrollDown();
    return node;
  }

  function setBusy(on) {
    busy = on;
    sendBtn.disabled = on;
  }

  /* a form's buttons (确认, 跳过, 取消 ...) belong to the question they came with: once the
     conversation moves on they are greyed out. Votes and an order's buttons stay usable. */
  var LASTING = /^(useful|useless|accept|decline|resolve|rate|cancel_order|consent|swap):/;
  function retire() {
    history.forEach(function (item) {
      if (item.who === "bot" && (item.buttons || []).some(function (b) {
        return !LASTING.test(b.action);
      })) {
        item.buttons = item.buttons.filter(function (b) { return LASTING.test(b.action); });
      }
    });
    Array.prototype.forEach.call(
      document.querySelectorAll("#messages .msg.bot .acts button"),
      function (b) {
        if (!LASTING.test(b.getAttribute("data-action"))) b.disabled = true;
      }
    );
  }

  function showReplies(data) {
    retire();
    (data.replies || []).forEach(function (r) {
      add({ who: "bot", text: r.text, buttons: r.buttons, source: r.source, media: r.media });
    });
  }

  function failed(resp, body) {
    var text = (body && body.error) || "网络不太好，消息没有发出去，请再试一次。";
    if (resp && resp.status === 401) {
      text = "会话已过期，正在刷新页面…";
      setTimeout(function () { location.reload(); }, 1500);
    }
    add({ who: "error", text: text }, false);
  }

  function request(url, options) {
    var typing = add({ who: "bot typing", text: "正在思考…" }, false);
    setBusy(true);
    return fetch(url, options)
      .then(function (resp) {
        return resp.json().then(
          function (body) { return { resp: resp, body: body }; },
          function () { return { resp: resp, body: null }; }
        );
      })
      .then(function (r) {
        typing.remove();
        if (r.resp.ok) showReplies(r.body);
        else failed(r.resp, r.body);
      })
      .catch(function () {
        typing.remove();
        failed(null, null);
      })
      .then(function () { setBusy(false); });
  }

  // one id per request: a request sent again is then handled once (servers with REDIS_URL)
  function requestId() {
    var bytes = new Uint8Array(12);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function post(payload, shown) {
    payload.id = requestId();
    if (shown) add({ who: "me", text: shown });
    return request("/api/chat", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(payload),
    });
  }

  function upload(file, kind) {
    if (!file) return;
    var data = new FormData();
    data.append("id", requestId());
    data.append("file", file, file.name || (kind === "voice" ? "voice.webm" : "photo.jpg"));
    var words = box.value.trim();
    if (words) data.append("text", words);
    box.value = "";
    var local = URL.createObjectURL(file);
    add({ who: "me", text: words || (kind === "voice" ? "（语音）" : "（照片）"),
          media: [{ url: local, kind: kind }] }, false);
    return request("/api/media", { method: "POST", credentials: "same-origin", body: data });
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var text = box.value.trim();
    if (!text || busy) return;
    box.value = "";
    grow();
    post({ text: text }, text);
  });

  box.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit"));
    }
  });

  function grow() {
    box.style.height = "auto";
    var h = Math.max(40, Math.min(box.scrollHeight + 2, 120));
    box.style.height = h + "px";
    box.style.overflowY = h >= 120 ? "auto" : "hidden";
  }
  box.addEventListener("input", grow);

  document.getElementById("chips").addEventListener("click", function (ev) {
    var say = ev.target.getAttribute && ev.target.getAttribute("data-say");
    if (say && !busy) post({ text: say }, ev.target.textContent);
  });

  photo.addEventListener("change", function () {
    upload(photo.files[0], "photo");
    photo.value = "";
  });
  voiceFile.addEventListener("change", function () {
    upload(voiceFile.files[0], "voice");
    voiceFile.value = "";
  });

  /* voice: record in the page where the browser can (https), else the phone's recorder */
  var recorder = null;
  var chunks = [];
  voiceBtn.addEventListener("click", function () {
    if (recorder && recorder.state === "recording") {
      recorder.stop();
      return;
    }
    var media = navigator.mediaDevices;
    if (!window.MediaRecorder || !media || !media.getUserMedia || !window.isSecureContext) {
      voiceFile.click();
      return;
    }
    media.getUserMedia({ audio: true }).then(function (stream) {
      chunks = [];
      recorder = new MediaRecorder(stream);
      recorder.ondataavailable = function (e) { if (e.data.size) chunks.push(e.data); };
      recorder.onstop = function () {
        stream.getTracks().forEach(function (t) { t.stop(); });
        voiceBtn.className = "icon";
        voiceBtn.textContent = "语音";
        status.textContent = "";
        var type = recorder.mimeType || "audio/webm";
        upload(new File(chunks, "voice." + (type.indexOf("mp4") >= 0 ? "m4a" : "webm"),
                        { type: type.split(";")[0] }), "voice");
      };
      recorder.start();
      voiceBtn.className = "icon recording";
      voiceBtn.textContent = "发送录音";
      status.textContent = "正在录音…";
    }, function () {
      voiceFile.click();
    });
  });

  /* messages for me (an expert's new need, "已接单" ...), also those queued while away */
  function listen() {
    if (!window.EventSource) return;
    var events = new EventSource("/api/events");
    events.onopen = function () { status.textContent = ""; document.body.setAttribute("data-live", "1"); };
    events.onerror = function () { status.textContent = "连接中…"; };
    events.onmessage = function (ev) {
      var m;
      try { m = JSON.parse(ev.data); } catch (e) { return; }
      // a reply that came after its request was answered 202 (REDIS_URL) looks like a reply
      var who = m.kind === "reply" ? "bot" : "notice";
      add({ who: who, text: m.text, buttons: m.buttons, source: m.source, media: m.media });
    };
  }

  try {
    history = JSON.parse(localStorage.getItem(HISTORY) || "[]") || [];
  } catch (e) {
    history = [];
  }
  history.forEach(function (item) { render(item); });
  scrollDown();
  if (!history.length) post({ text: "/start" });
  listen();
})();
