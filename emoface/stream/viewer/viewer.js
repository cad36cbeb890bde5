// The emoface live viewer: renders the bundled head (GET /head.glb) and drives its 52 ARKit
// morph targets with the frames the server streams back over the WebSocket /stream for the
// audio this page sends (microphone or a file). Protocol: docs/live.md.
import * as THREE from 'three';
import { GLTFLoader } from 'three/addons/loaders/GLTFLoader.js';

const ARKIT = [
  'browDownLeft', 'browDownRight', 'browInnerUp', 'browOuterUpLeft', 'browOuterUpRight',
  'cheekPuff', 'cheekSquintLeft', 'cheekSquintRight', 'eyeBlinkLeft', 'eyeBlinkRight',
  'eyeLookDownLeft', 'eyeLookDownRight', 'eyeLookInLeft', 'eyeLookInRight', 'eyeLookOutLeft',
  'eyeLookOutRight', 'eyeLookUpLeft', 'eyeLookUpRight', 'eyeSquintLeft', 'eyeSquintRight',
  'eyeWideLeft', 'eyeWideRight', 'jawForward', 'jawLeft', 'jawOpen', 'jawRight', 'mouthClose',
  'mouthDimpleLeft', 'mouthDimpleRight', 'mouthFrownLeft', 'mouthFrownRight', 'mouthFunnel',
  'mouthLeft', 'mouthLowerDownLeft', 'mouthLowerDownRight', 'mouthPressLeft', 'mouthPressRight',
  'mouthPucker', 'mouthRight', 'mouthRollLower', 'mouthRollUpper', 'mouthShrugLower',
  'mouthShrugUpper', 'mouthSmileLeft', 'mouthSmileRight', 'mouthStretchLeft',
  'mouthStretchRight', 'mouthUpperUpLeft', 'mouthUpperUpRight', 'noseSneerLeft',
  'noseSneerRight', 'tongueOut'];
const at = Object.fromEntries(ARKIT.map((name, i) => [name, i]));
const RATE = 16000;
const CHUNK_S = 320 / RATE;
const params = new URLSearchParams(location.search);
const $ = (id) => document.getElementById(id);

// What tests and the curious can read: window.emoface.state
const state = { ready: false, connected: false, framesApplied: 0, lastT: -1,
                jawOpen: 0, aperture: 0, latencies: [], error: null, ended: false,
                held: false };
// holdWhen(state): freeze the face on the first frame it accepts (for a still to compare);
// release() lets frames through again. The space bar does the same by hand.
window.emoface = { state, holdWhen: null, release: () => { state.held = false; } };
document.addEventListener('keydown', (e) => {
  if (e.code === 'Space' && e.target === document.body) { state.held = !state.held; e.preventDefault(); }
});

function status(text) { $('status').textContent = text; }

// ------------------------------------------------------------------------- the scene
const renderer = new THREE.WebGLRenderer({ antialias: true, preserveDrawingBuffer: true });
renderer.setPixelRatio(window.devicePixelRatio);
renderer.setSize(window.innerWidth, window.innerHeight);
$('stage').appendChild(renderer.domElement);
const scene = new THREE.Scene();
scene.background = new THREE.Color(0x1d2127);
const camera = new THREE.PerspectiveCamera(28, window.innerWidth / window.innerHeight, 0.01, 100);
scene.add(new THREE.HemisphereLight(0xffffff, 0x404050, 1.6));
const key = new THREE.DirectionalLight(0xffffff, 2.2);
key.position.set(0.6, 0.8, 1.5);
scene.add(key);

let morphMeshes = [];   // [mesh, Int32Array index of each ARKit weight, or -1]
let headNode = null;

new GLTFLoader().load('/head.glb', (gltf) => {
  const root = gltf.scene;
  scene.add(root);
  root.traverse((o) => {
    if (o.isMesh && o.morphTargetDictionary) {
      const index = Int32Array.from(ARKIT, (n) => o.morphTargetDictionary[n] ?? -1);
      morphMeshes.push([o, index]);
    }
  });
  headNode = root.getObjectByName('head');
  // frame the face: look at the box's centre from the front, a little above
  const box = new THREE.Box3().setFromObject(root);
  const centre = box.getCenter(new THREE.Vector3());
  const size = box.getSize(new THREE.Vector3());
  const distance = 0.95 * size.y / (2 * Math.tan(THREE.MathUtils.degToRad(camera.fov / 2)));
  camera.position.set(centre.x, centre.y + 0.05 * size.y, centre.z + distance + size.z / 2);
  camera.lookAt(centre);
  placeBesidePanel();
  state.ready = true;
  status(morphMeshes.length ? 'ready: choose the microphone or a file'
                            : 'the head has no morph targets');
  if (params.get('autostart') === 'mic') startMicrophone();
}, undefined, (err) => { state.error = String(err); status(`cannot load /head.glb: ${err}`); });

function applyFrame(frame) {
  if (state.held) return;
  const w = frame.weights;
  for (const [mesh, index] of morphMeshes) {
    const influences = mesh.morphTargetInfluences;
    for (let i = 0; i < index.length; i++) if (index[i] >= 0) influences[index[i]] = w[i];
  }
  if (headNode && frame.head) {
    const [yaw, pitch, roll] = frame.head;   // Live Link signs; see emoface/export/scene.py
    headNode.quaternion.setFromEuler(new THREE.Euler(pitch, -yaw, roll, 'YXZ'));
  }
  state.framesApplied += 1;
  state.lastT = frame.t;
  state.jawOpen = w[at.jawOpen];
  // lip aperture as docs/design.md defines it from the weights (rig-independent)
  state.aperture = Math.max(0, w[at.jawOpen] - w[at.mouthClose]) + 0.5 * w[at.mouthFunnel]
    + 0.125 * (w[at.mouthLowerDownLeft] + w[at.mouthLowerDownRight]
               + w[at.mouthUpperUpLeft] + w[at.mouthUpperUpRight]);
  $('frames').textContent = String(state.framesApplied);
  const hold = window.emoface.holdWhen;
  if (hold && hold(state)) { state.held = true; window.emoface.holdWhen = null; }
}

function render() {
  renderer.render(scene, camera);
  requestAnimationFrame(render);
}
requestAnimationFrame(render);
function placeBesidePanel() {
  // centre the head in the room right of the control panel (a view offset, not a new camera)
  const w = window.innerWidth, h = window.innerHeight;
  camera.aspect = w / h;
  const panel = $('panel').getBoundingClientRect();
  const shift = w > 1.6 * panel.right ? panel.right / 2 : 0;
  if (shift) camera.setViewOffset(w, h, -shift, 0, w, h); else camera.clearViewOffset();
  camera.updateProjectionMatrix();
}
window.addEventListener('resize', () => {
  renderer.setSize(window.innerWidth, window.innerHeight);
  placeBesidePanel();
});

// ------------------------------------------------------------------------- the session
let session = null;

function emotionArgument() {
  const name = $('emotion').value;
  return name === 'auto' || name === 'neutral' ? name : `${name}:${$('intensity').value}`;
}

class Session {
  // One WebSocket stream: audio chunks out, frames in; latency per frame is the time from
  // sending the chunk that holds the frame's moment to the frame's arrival.
  constructor(onClose) {
    let url = params.get('ws') || `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/stream`;
    if (params.get('token')) url += `?token=${encodeURIComponent(params.get('token'))}`;
    this.ws = new WebSocket(url);
    this.ws.binaryType = 'arraybuffer';
    this.sentAt = new Map();   // chunk index -> performance.now() when sent
    this.chunks = 0;
    this.open = new Promise((resolve, reject) => {
      this.ws.onopen = () => {
        const hello = { sample_rate: RATE, emotion: emotionArgument(), fps: 30 };
        if (params.get('engine')) hello.engine = params.get('engine');
        this.ws.send(JSON.stringify(hello));
        state.connected = true;
        resolve();
      };
      this.ws.onerror = () => reject(new Error('cannot connect'));
    });
    this.ws.onmessage = (event) => this.receive(event.data);
    this.ws.onclose = (event) => {
      state.connected = false;
      if (event.code !== 1000 && event.code !== 1005) {
        state.error = `closed ${event.code} ${event.reason}`;
        status(`server closed the stream (${event.code}${event.reason ? ': ' + event.reason : ''})`);
      }
      onClose();
    };
  }

  send(pcm16) {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    this.sentAt.set(this.chunks++, performance.now());
    this.ws.send(pcm16);
  }

  end() {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ event: 'end' }));
  }

  setEmotion(value) {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ emotion: value }));
  }

  receive(data) {
    if (typeof data !== 'string') return;   // a binary frame variant is not used here
    const message = JSON.parse(data);
    if (message.weights) {
      const chunk = Math.floor(message.t / CHUNK_S);
      const sent = this.sentAt.get(chunk);
      if (sent !== undefined) {
        state.latencies.push(performance.now() - sent);
        if (state.latencies.length > 200) state.latencies.shift();
        showLatency();
      }
      for (const k of this.sentAt.keys()) { if (k < chunk - 50) this.sentAt.delete(k); else break; }
      applyFrame(message);
    } else if (message.event === 'ready') {
      state.engine = message.engine;
    } else if (message.event === 'end') {
      state.ended = true;
      status('done');
      this.ws.close(1000);
    } else if (message.event === 'error') {
      state.error = message.message;
      status(`server: ${message.message}`);
    }
  }
}

function showLatency() {
  const sorted = [...state.latencies].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  $('latency').textContent = `${at(0.5).toFixed(0)} ms (p95 ${at(0.95).toFixed(0)} ms)`;
}

// ------------------------------------------------------------------------- audio in
let audio = null;   // { context, stop() }

async function captureGraph(connectSource) {
  const context = new AudioContext();
  await context.audioWorklet.addModule('/viewer/capture-worklet.js');
  const worklet = new AudioWorkletNode(context, 'emoface-capture');
  const sink = context.createGain();
  sink.gain.value = 0;               // the worklet must reach the destination to run
  worklet.connect(sink).connect(context.destination);
  worklet.port.onmessage = (event) => session && session.send(event.data);
  const stopSource = await connectSource(context, worklet);
  await context.resume();
  return { context, stop: () => { stopSource(); worklet.port.onmessage = null; context.close(); } };
}

async function begin(connectSource, label) {
  stop();
  state.ended = false;
  state.error = null;
  const mine = new Session(() => {
    if (session !== mine) return;          // an older session closing late: not ours to stop
    if (audio) { audio.stop(); audio = null; }
    setBusy(false);
  });
  session = mine;
  try {
    await mine.open;
    audio = await captureGraph(connectSource);
    setBusy(true);
    status(label);
  } catch (err) {
    state.error = String(err);
    status(`${err.message || err}`);
    stop();
  }
}

function startMicrophone() {
  return begin(async (context, worklet) => {
    const media = await navigator.mediaDevices.getUserMedia(
      { audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false } });
    context.createMediaStreamSource(media).connect(worklet);
    return () => media.getTracks().forEach((t) => t.stop());
  }, 'listening to the microphone');
}

function startFile(file) {
  return begin(async (context, worklet) => {
    const buffer = await context.decodeAudioData(await file.arrayBuffer());
    const source = context.createBufferSource();
    source.buffer = buffer;
    source.connect(worklet);
    source.connect(context.destination);   // hear it while the face says it
    source.onended = () => session && session.end();
    source.start();
    return () => { try { source.stop(); } catch (e) { /* already ended */ } };
  }, `playing ${file.name}`);
}

function stop() {
  if (session) session.end();
  if (audio) { audio.stop(); audio = null; }
  setBusy(false);
}

function setBusy(busy) {
  $('stop').disabled = !busy;
  $('mic').disabled = busy;
}

$('mic').onclick = () => startMicrophone();
$('stop').onclick = () => stop();
$('file').onchange = (e) => e.target.files[0] && startFile(e.target.files[0]);
const sendEmotion = () => session && session.setEmotion(emotionArgument());
$('emotion').onchange = sendEmotion;
$('intensity').onchange = sendEmotion;
document.addEventListener('dragover', (e) => { e.preventDefault(); document.body.classList.add('dragging'); });
document.addEventListener('dragleave', () => document.body.classList.remove('dragging'));
document.addEventListener('drop', (e) => {
  e.preventDefault();
  document.body.classList.remove('dragging');
  if (e.dataTransfer.files[0]) startFile(e.dataTransfer.files[0]);
});
