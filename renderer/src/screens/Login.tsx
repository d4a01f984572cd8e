import { Alert, Button, Card, Center, PasswordInput, Stack, TextInput, Title } from '@mantine/core';
import { zodResolver } from '@hookform/resolvers/zod';
import { useMemo, useState } from 'react';
import { useForm } from 'react-hook-form';
import { loginRequestSchema } from '../../../shared/contract.ts';
import { describeError } from '../api.ts';
import { LanguagePicker } from '../ui.tsx';
import { useT, type TFunction } from '../i18n.tsx';

/** The login request's own rules (shared/contract.ts), each refusal in the user's words ("Enter your username"), never zod's. */
const loginIssue = (t: TFunction) => (issue: { code?: string; path?: PropertyKey[] }): string =>
  issue.code === 'too_big' ? t('login.tooLong') : issue.path?.[0] === 'password' ? t('login.needPassword') : t('login.needUsername');

export function LoginScreen({ onLogin }: { onLogin: (username: string, password: string) => Promise<void> }) {
  const t = useT();
  const [error, setError] = useState<string | null>(null);
  const resolver = useMemo(() => zodResolver(loginRequestSchema, { error: loginIssue(t) }), [t]);
  const form = useForm({ resolver, defaultValues: { username: '', password: '' } });
  const submit = form.handleSubmit(async (v) => {
    setError(null);
    try {
      await onLogin(v.username, v.password);
    } catch (e) {
      setError(describeError(e));
    }
  });
  return (
    <Center h="100vh">
      <Card withBorder shadow="sm" w={420} p="xl">
        <form onSubmit={(e) => void submit(e)}>
          <Stack>
            <Title order={2}>{t('login.title')}</Title>
            {error && <Alert color="red" role="alert">{error}</Alert>}
            <TextInput label={t('login.username')} autoFocus autoComplete="username" {...form.register('username')} error={form.formState.errors.username?.message} />
            <PasswordInput label={t('login.password')} autoComplete="current-password" {...form.register('password')} error={form.formState.errors.password?.message} />
            <Button type="submit" loading={form.formState.isSubmitting} size="lg">{t('login.submit')}</Button>
            <LanguagePicker />
          </Stack>
        </form>
      </Card>
    </Center>
  );
}
