// Parses iCalendar text from standard input with ical.js (the library
// calendar programs on the web use) and prints its events as JSON: each
// event's times as UTC instants and as wall-clock times in its zone.
const ICAL = require(process.argv[2]);
let data = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (c) => (data += c));
process.stdin.on('end', () => {
  const comp = new ICAL.Component(ICAL.parse(data));
  for (const tz of comp.getAllSubcomponents('vtimezone')) {
    ICAL.TimezoneService.register(tz);
  }
  const events = comp.getAllSubcomponents('vevent').map((v) => {
    const e = new ICAL.Event(v);
    const wall = (t) => t.toString().slice(0, 16);
    return {
      uid: e.uid,
      summary: e.summary || '',
      description: e.description || '',
      location: e.location || '',
      status: v.getFirstPropertyValue('status') || '',
      tzid: e.startDate.zone ? e.startDate.zone.tzid : '',
      start: e.startDate.toJSDate().toISOString(),
      end: e.endDate.toJSDate().toISOString(),
      startWall: wall(e.startDate),
      endWall: wall(e.endDate),
    };
  });
  process.stdout.write(JSON.stringify({
    name: comp.getFirstPropertyValue('x-wr-calname') || '',
    timezones: comp.getAllSubcomponents('vtimezone').map((t) => t.getFirstPropertyValue('tzid')),
    events,
  }));
});
