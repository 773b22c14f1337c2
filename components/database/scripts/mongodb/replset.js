// Replica-set reconciler, run by scripts/mongodb/replset.sh beside every member (mongosh --file).
//
// plan() is pure (the unit tests load this file in Node and call it); main() runs it against the
// local mongod in mongosh:
//   - not initiated, on ordinal 0: rs.initiate() with every member (ordinal 0 gets priority 2, so
//     it is the preferred primary, and becomes primary without an election race);
//   - initiated, this member is the PRIMARY, and the members differ from the spec (a scale-up
//     or -down on a later `up`): rs.reconfig() with the wanted members, existing _ids kept;
//   - anything else (a secondary, an initiated set that matches, a re-run, a restart): nothing.
// Environment (through process.env in mongosh): POD_NAME, MEMBERS ("host:port,..."), REPLICA_SET,
// and the files of the root user the image's entrypoint created (MONGO_INITDB_ROOT_USERNAME_FILE,
// MONGO_INITDB_ROOT_PASSWORD_FILE: the credentials Secret's files, read here with Node's fs).

/**
 * What to do, from the local member's view.
 * status: { initiated: boolean, primary: boolean, members: [{ _id, host, priority }] } (config members)
 * Returns { action: "initiate" | "reconfig" | "none", members?: [{ _id, host, priority }] }.
 */
function plan(status, ordinal, wanted) {
    if (!status.initiated) {
        if (ordinal !== 0) {
            return { action: "none" };
        }
        return { action: "initiate", members: wanted.map((host, i) => ({ _id: i, host: host, priority: i === 0 ? 2 : 1 })) };
    }
    if (!status.primary) {
        return { action: "none" };
    }
    const current = status.members.map(m => m.host).slice().sort();
    const target = wanted.slice().sort();
    if (current.length === target.length && current.every((h, i) => h === target[i])) {
        return { action: "none" };
    }
    const byHost = {};
    status.members.forEach(m => { byHost[m.host] = m; });
    let nextId = status.members.reduce((max, m) => Math.max(max, m._id), -1) + 1;
    const members = wanted.map((host, i) => byHost[host]
        ? { _id: byHost[host]._id, host: host, priority: byHost[host].priority }
        : { _id: nextId++, host: host, priority: i === 0 ? 2 : 1 });
    return { action: "reconfig", members: members };
}

function main() {
    const podName = process.env.POD_NAME;
    const ordinal = Number(podName.substring(podName.lastIndexOf("-") + 1));
    const wanted = process.env.MEMBERS.split(",");
    const setName = process.env.REPLICA_SET;
    const fs = require("fs");
    const read = file => fs.readFileSync(file, "utf8").replace(/\n+$/, "");
    db.getSiblingDB("admin").auth(read(process.env.MONGO_INITDB_ROOT_USERNAME_FILE), read(process.env.MONGO_INITDB_ROOT_PASSWORD_FILE));
    let status;
    try {
        const config = rs.conf();
        status = { initiated: true, primary: db.hello().isWritablePrimary === true, members: config.members };
    } catch (e) {
        if (e.codeName !== "NotYetInitialized" && !/no replset config has been received/i.test(String(e.message))) {
            throw e;
        }
        status = { initiated: false, primary: false, members: [] };
    }
    const step = plan(status, ordinal, wanted);
    if (step.action === "initiate") {
        print(`replset: initiating ${setName} with ${wanted.join(", ")}`);
        rs.initiate({ _id: setName, members: step.members });
    } else if (step.action === "reconfig") {
        const config = rs.conf();
        config.members = step.members;
        config.version += 1;
        print(`replset: reconfiguring ${setName} to ${wanted.join(", ")}`);
        rs.reconfig(config);
    }
}

if (typeof module !== "undefined" && module.exports && typeof rs === "undefined") {
    module.exports = { plan };
} else {
    main();
}
