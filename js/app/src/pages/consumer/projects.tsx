// #/projects: the signed-in principal's projects (`projects_mine`, 20 a page): groups whose
// members may see and lease the offers a provider makes private to them. Create one (you own
// it); as its owner, add and remove members or rename it.
import { useEffect, useState } from 'preact/hooks';
import { Principal } from '@icp-sdk/core/principal';
import type { Project, Session } from '../../api';
import { ok } from '../../errors';
import { Alert, Field, Notice, Page, opt, useAction } from '../../ui';
import { SignInNote } from './common';

/** Principals typed in a box, separated by spaces, commas or lines. */
function principals(text: string): Principal[] {
  return text.split(/[\s,]+/).filter(Boolean).map((t) => {
    try {
      return Principal.fromText(t);
    } catch {
      throw new Error(`"${t}" is not a principal.`);
    }
  });
}

export function ProjectsPage({ who }: { who: Session }) {
  const [projects, setProjects] = useState<Project[]>();
  const [next, setNext] = useState<bigint>();
  const [name, setName] = useState('');
  const [members, setMembers] = useState('');
  const anonymous = who.kind === 'anonymous';

  const load = useAction(async (after?: bigint, current: Project[] = []) => {
    const page = ok(await who.actor.projects_mine(after === undefined ? [] : [after]));
    setProjects([...current, ...page.projects]);
    setNext(opt(page.next));
  });
  const create = useAction(async () => {
    if (!name.trim()) throw new Error('Give the project a name.');
    const project = ok(await who.actor.project_create({ name: name.trim(), members: principals(members) }));
    setName('');
    setMembers('');
    await load.run();
    return project;
  });

  useEffect(() => {
    if (!anonymous) void load.run();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [who.principal.toText()]);

  const replace = (changed: Project) =>
    setProjects((all) => all?.map((p) => (p.id === changed.id ? changed : p)));

  return (
    <Page
      title="My projects"
      intro="A project is a group of people. A provider can make an offer private to a project: then its members see and lease it, whoever joins or leaves later."
    >
      {anonymous ? (
        <SignInNote what="Your projects are those of the identity you sign in with." />
      ) : (
        <>
          <form
            class="card"
            aria-label="New project"
            onSubmit={(e) => {
              e.preventDefault();
              void create.run();
            }}
          >
            <h2>New project</h2>
            <Field label="Project name">
              {(id) => <input id={id} value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />}
            </Field>
            <Field label="Members" hint="optional: principals besides you, separated by spaces or commas (at most 63)">
              {(id, hint) => (
                <textarea id={id} rows={2} value={members} aria-describedby={hint} spellcheck={false}
                  onInput={(e) => setMembers((e.target as HTMLTextAreaElement).value)} />
              )}
            </Field>
            <button type="submit" disabled={create.busy}>Create project</button>
            {create.error && <Alert>{create.error}</Alert>}
            {create.result && <Notice>Project {String(create.result.id)} created.</Notice>}
          </form>
          {load.error && <Alert>{load.error}</Alert>}
          {projects && projects.length === 0 && <p>You are in no project yet.</p>}
          {projects?.map((p) => (
            <ProjectCard key={String(p.id)} project={p} who={who} onChange={replace} />
          ))}
          {next !== undefined && (
            <button type="button" disabled={load.busy} onClick={() => void load.run(next, projects)}>
              Load more
            </button>
          )}
        </>
      )}
    </Page>
  );
}

function ProjectCard(props: { project: Project; who: Session; onChange: (p: Project) => void }) {
  const { project, who } = props;
  const [add, setAdd] = useState('');
  const owner = project.owner.toText() === who.principal.toText();
  const update = useAction(async (change: { add?: Principal[]; remove?: Principal[] }) => {
    const changed = ok(await who.actor.project_update({
      project_id: project.id,
      add: change.add ?? [],
      remove: change.remove ?? [],
      name: [],
    }));
    setAdd('');
    props.onChange(changed);
    return changed;
  });
  const title = `Project ${project.id}: ${project.name}`;
  return (
    <section class="card project" aria-label={title}>
      <h2>{title}</h2>
      <p>
        Owner: <code>{project.owner.toText()}</code>
        {owner ? ' (you)' : ''}. Offers private to project {String(project.id)} are yours to see and lease.
      </p>
      <table class="members">
        <caption>Members ({project.members.length})</caption>
        <thead>
          <tr>
            <th scope="col">Principal</th>
            {owner && <th scope="col">Change</th>}
          </tr>
        </thead>
        <tbody>
          {project.members.map((m) => (
            <tr key={m.toText()}>
              <td><code>{m.toText()}</code></td>
              {owner && (
                <td>
                  {m.toText() !== project.owner.toText() && (
                    <button type="button" disabled={update.busy} aria-label={`Remove ${m.toText()}`}
                      onClick={() => void update.run({ remove: [m] })}>
                      Remove
                    </button>
                  )}
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
      {owner && (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void update.run({ add: principals(add) });
          }}
        >
          <Field label={`Add members to project ${project.id}`} hint="principals, separated by spaces or commas">
            {(id, hint) => (
              <input id={id} value={add} aria-describedby={hint} spellcheck={false}
                onInput={(e) => setAdd((e.target as HTMLInputElement).value)} />
            )}
          </Field>
          <button type="submit" disabled={update.busy}>Add</button>
        </form>
      )}
      {update.error && <Alert>{update.error}</Alert>}
    </section>
  );
}
