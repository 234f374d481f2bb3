// Applies trackside live patches to a snapshot, op by op, exactly as trackside/live/patch.py
// defines them. Returns a new snapshot object; the old one is not modified.
"use strict";

function applyPatch(snapshot, ops) {
  const result = Object.assign({}, snapshot);
  const sessions = (result.sessions || []).slice();
  result.sessions = sessions;
  const copied = new Set();
  for (const op of ops) {
    const kind = op.op;
    if (kind === "top") {
      Object.assign(result, op.set);
      for (const key of op.del || []) delete result[key];
    } else if (kind === "truncate") {
      sessions.length = op.len;
    } else if (kind === "session") {
      sessions[op.s] = op.value;
      copied.delete(op.s);
    } else {
      if (!copied.has(op.s)) { sessions[op.s] = Object.assign({}, sessions[op.s]); copied.add(op.s); }
      applySessionOp(sessions[op.s], kind, op);
    }
  }
  return result;
}

function applySessionOp(session, kind, op) {
  if (kind === "set") {
    Object.assign(session, op.set);
    for (const key of op.del || []) delete session[key];
  } else if (kind === "flags") {
    session.flag_periods = session.flag_periods.slice(0, op.from).concat(op.periods);
  } else if (kind === "remove") {
    const gone = new Set(op.regs);
    session.cars = session.cars.filter((car) => !gone.has(car.registration));
  } else if (kind === "put") {
    const cars = session.cars.slice();
    const at = new Map(cars.map((car, i) => [car.registration, i]));
    for (const car of op.cars) {
      const i = at.get(car.registration);
      if (i === undefined) { at.set(car.registration, cars.length); cars.push(car); } else cars[i] = car;
    }
    session.cars = cars;
  } else if (kind === "cars") {
    const changes = op.set;
    session.cars = session.cars.map((car) =>
      Object.prototype.hasOwnProperty.call(changes, car.registration)
        ? Object.assign({}, car, changes[car.registration]) : car);
  } else if (kind === "move") {
    const moving = new Set(op.moves.map((m) => m[0]));
    const byReg = new Map(session.cars.map((car) => [car.registration, car]));
    const cars = session.cars.filter((car) => !moving.has(car.registration));
    for (const [reg, index] of op.moves) cars.splice(index, 0, byReg.get(reg));
    session.cars = cars;
  } else {
    throw new Error(`unknown patch op ${kind}`);
  }
}

if (typeof module !== "undefined") module.exports = { applyPatch };
